//! Shared test helpers: one generated dataset per test binary, a fresh platform per test,
//! in-process requests through the router.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, Bytes};
use http::{HeaderMap, Request};
use sandkasse_kommune::{Dataset, GenConfig, PatientTruth, PractitionerTruth, Tenant, UnitTruth};
use sandkasse_platform::clock::FixedClock;
use sandkasse_platform::{Base, FaultPlan, LaunchContext, Platform, Purpose, app};
use serde_json::Value;
use tower::ServiceExt as _;

/// The kommune most tests use (Bergen).
pub const K: &str = "4601";

pub fn dataset() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| sandkasse_kommune::generate(&GenConfig::new(42, 400)))
}

pub fn base() -> Arc<Base> {
    static BASE: OnceLock<Arc<Base>> = OnceLock::new();
    BASE.get_or_init(|| Arc::new(Base::new(dataset()))).clone()
}

pub fn tenant() -> &'static Tenant {
    dataset().tenant(K).expect("Bergen is generated")
}

/// "Today" of the scenario clock.
pub fn today() -> String {
    sandkasse_kommune::REFERENCE_DATE.to_string()
}

/// Relation of a unit to a patient today, from the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    Active,
    Ended,
    None,
}

pub fn relation(unit: &str, patient: &str) -> Rel {
    let rels: Vec<_> = tenant()
        .truth
        .care_relations
        .iter()
        .filter(|r| r.unit == unit && r.patient == patient)
        .collect();
    if rels.is_empty() {
        Rel::None
    } else if rels.iter().any(|r| r.active_on(&today())) {
        Rel::Active
    } else {
        Rel::Ended
    }
}

pub fn unit(id: &str) -> &'static UnitTruth {
    tenant()
        .truth
        .units
        .iter()
        .find(|u| u.id == id)
        .expect("unit exists")
}

pub fn practitioner(category: &str) -> &'static PractitionerTruth {
    tenant()
        .truth
        .practitioners
        .iter()
        .find(|p| p.category == category)
        .expect("category present")
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first issue's code of an OperationOutcome body.
    pub fn issue_code(&self) -> String {
        let j = self.json();
        assert_eq!(j["resourceType"], "OperationOutcome", "{}", self.text());
        j["issue"][0]["code"].as_str().unwrap_or("").to_owned()
    }
}

/// One platform with a fixed clock at the dataset's reference time.
pub struct H {
    pub platform: Arc<Platform>,
    pub clock: Arc<FixedClock>,
    pub router: Router,
}

impl H {
    pub fn new() -> H {
        H::with_faults(FaultPlan::default())
    }

    pub fn with_faults(plan: FaultPlan) -> H {
        let base = base();
        let clock = Arc::new(FixedClock::new(base.reference_time()));
        let platform = Arc::new(
            Platform::new(base, clock.clone())
                .with_faults(plan)
                .expect("valid plan"),
        );
        let router = app(platform.clone());
        H {
            platform,
            clock,
            router,
        }
    }

    pub async fn call(&self, req: Request<Body>) -> Resp {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Resp {
        let mut b = Request::get(path);
        if !token.is_empty() {
            b = b.header("authorization", format!("Bearer {token}"));
        }
        self.call(b.body(Body::empty()).unwrap()).await
    }

    pub async fn send_json(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/fhir+json");
        if !token.is_empty() {
            b = b.header("authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.call(
            b.body(Body::from(serde_json::to_vec(body).unwrap()))
                .unwrap(),
        )
        .await
    }

    pub fn token(&self, ctx: LaunchContext) -> String {
        self.platform.issue_token(&ctx).expect("token")
    }

    /// A treatment token for a practitioner acting in their first unit.
    pub fn token_for(&self, p: &PractitionerTruth) -> String {
        self.token(ctx(p, &p.units[0], Purpose::Treatment, None))
    }
}

pub fn ctx(
    p: &PractitionerTruth,
    unit_id: &str,
    purpose: Purpose,
    reason: Option<&str>,
) -> LaunchContext {
    LaunchContext {
        kommunenummer: K.to_owned(),
        practitioner: p.hpr.clone(),
        role: p.category.to_owned(),
        unit: unit(unit_id).orgnr.clone(),
        patient: None,
        purpose,
        reason: reason.map(str::to_owned),
        scope: None,
    }
}

/// A nurse and the patient with the most observations among those the nurse's unit has an
/// active relation with (and no shielding).
pub fn nurse_and_patient() -> (&'static PractitionerTruth, &'static PatientTruth) {
    static PICK: OnceLock<(usize, usize)> = OnceLock::new();
    let truth = &tenant().truth;
    let (n, p) = *PICK.get_or_init(|| {
        let mut best: Option<(usize, usize, usize)> = None;
        for (ni, nurse) in truth
            .practitioners
            .iter()
            .enumerate()
            .filter(|(_, p)| p.category == "SP")
        {
            for (pi, pt) in truth.patients.iter().enumerate() {
                if relation(&nurse.units[0], &pt.id) != Rel::Active
                    || truth.shielded.iter().any(|s| s.patient == pt.id)
                {
                    continue;
                }
                let obs = resources_of("Observation", &pt.id).len();
                if best.is_none_or(|(_, _, b)| obs > b) {
                    best = Some((ni, pi, obs));
                }
            }
        }
        let (ni, pi, obs) = best.expect("a nurse with a related patient");
        assert!(
            obs > 12,
            "the dataset should give some patient more than 12 observations"
        );
        (ni, pi)
    });
    (&truth.practitioners[n], &truth.patients[p])
}

/// Ground-truth resources of a patient of one type, in dataset order.
pub fn resources_of(rtype: &str, patient: &str) -> Vec<&'static sandkasse_kommune::Resource> {
    tenant()
        .resources
        .iter()
        .filter(|r| r.resource_type == rtype && r.patient.as_deref() == Some(patient))
        .collect()
}

/// Follows `next` links from a first search response; returns every page's bundle.
pub async fn walk(h: &H, token: &str, first: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut url = first.to_owned();
    loop {
        let r = h.get(token, &url).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        let bundle = r.json();
        let next = bundle["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .map(|l| l["url"].as_str().unwrap().to_owned());
        pages.push(bundle);
        match next {
            Some(n) => {
                url = n
                    .strip_prefix("https://plattform.sandkasse.test")
                    .expect("absolute next link")
                    .to_owned()
            }
            None => return pages,
        }
        assert!(pages.len() < 1000, "runaway paging");
    }
}

/// Ids of `match` entries of a bundle.
pub fn match_ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["search"]["mode"] == "match")
                .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The `outcome` entry's OperationOutcome, if any.
pub fn outcome_entry(bundle: &Value) -> Option<Value> {
    bundle["entry"]
        .as_array()?
        .iter()
        .find(|e| e["search"]["mode"] == "outcome")
        .map(|e| e["resource"].clone())
}
