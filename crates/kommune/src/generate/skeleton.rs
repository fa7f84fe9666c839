//! A kommune's skeleton: its units (bydeler, fastlegekontor, hjemmesykepleie, sykehjem, legevakt,
//! helsestasjon, tildelingskontor) and their helsepersonell, before any person is generated.

use super::*;

/// A unit with the practitioners working there.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub(super) truth: UnitTruth,
    pub(super) bydel: usize,
    pub(super) staff: Vec<usize>,
}

/// A kommune's organisation: units and practitioners, generated before any person.
#[derive(Debug, Clone)]
pub(crate) struct Skeleton {
    pub(super) kommune: &'static KommuneInfo,
    pub(super) units: Vec<Unit>,
    pub(super) practitioners: Vec<PractitionerTruth>,
    pub(super) resources: Vec<Resource>,
}

impl Skeleton {
    pub(super) fn units_of(&self, kind: UnitKind) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&u| self.units[u].truth.kind == kind)
            .collect()
    }

    pub(super) fn unit_for(&self, kind: UnitKind, bydel: usize) -> usize {
        let of_kind = self.units_of(kind);
        of_kind
            .iter()
            .copied()
            .find(|&u| self.units[u].bydel == bydel)
            .unwrap_or(of_kind[bydel % of_kind.len()])
    }

    pub(super) fn staff_member(
        &self,
        unit: usize,
        rng: &mut ChaCha8Rng,
        categories: &[&str],
    ) -> &PractitionerTruth {
        let staff = &self.units[unit].staff;
        let fitting: Vec<usize> = staff
            .iter()
            .copied()
            .filter(|&p| categories.contains(&self.practitioners[p].category))
            .collect();
        let pick = if fitting.is_empty() {
            *staff.choose(rng).expect("units have staff")
        } else {
            *fitting.choose(rng).expect("non-empty")
        };
        &self.practitioners[pick]
    }
}

pub(super) fn person_name(rng: &mut ChaCha8Rng, female: bool, sami_share: f64) -> (String, String) {
    let sami = rng.random_bool(sami_share);
    let given = match (sami, female) {
        (true, true) => names::SAMI_FEMALE,
        (true, false) => names::SAMI_MALE,
        (false, true) => names::FEMALE,
        (false, false) => names::MALE,
    };
    let family = if sami {
        names::SAMI_SURNAMES
    } else {
        names::SURNAMES
    };
    (
        given.choose(rng).expect("names").to_string(),
        family.choose(rng).expect("names").to_string(),
    )
}

pub(crate) fn skeleton(
    seed: u64,
    tenant: usize,
    kommune: &'static KommuneInfo,
    innbyggere: u32,
) -> Skeleton {
    let mut rng = rng_for(seed, "skeleton", tenant as u64, 0);
    let knr: u32 = kommune.nummer.parse().expect("kommunenummer is numeric");
    let mut org_serial = knr * 1000;
    let mut next_orgnr = || loop {
        org_serial += 1;
        if let Some(o) = ids::orgnr(org_serial) {
            return o;
        }
    };
    let mut hpr_serial = knr * 1000;
    let mut next_hpr = || loop {
        hpr_serial += 1;
        if let Some(h) = ids::hpr(hpr_serial) {
            return h;
        }
    };
    let n = innbyggere as usize;
    let bydeler = kommune.bydeler.len();
    let plan: [(UnitKind, usize, &[&str]); 7] = [
        (UnitKind::Kommune, 1, &["XX"]),
        (UnitKind::Tildelingskontor, 1, &["XX", "XX", "SP"]),
        (
            UnitKind::Hjemmesykepleie,
            (n / 2500).clamp(1, bydeler),
            &["SP", "SP", "SP", "HF", "HF", "VP"],
        ),
        (
            UnitKind::Sykehjem,
            (n / 4000).clamp(1, 6),
            &["SP", "SP", "HF", "HF", "LE", "FT"],
        ),
        (UnitKind::Legevakt, 1, &["LE", "LE", "LE", "SP", "SP"]),
        (
            UnitKind::Helsestasjon,
            (n / 6000).clamp(1, bydeler),
            &["SP", "SP", "JO", "LE"],
        ),
        (
            UnitKind::Fastlegekontor,
            (n / 1500).clamp(1, 12),
            &["LE", "LE", "LE", "HE"],
        ),
    ];
    let mut sk = Skeleton {
        kommune,
        units: Vec::new(),
        practitioners: Vec::new(),
        resources: Vec::new(),
    };
    let kommune_org = format!("org-{}", kommune.nummer);
    for (kind, count, staffing) in plan {
        for i in 0..count {
            let bydel = i % bydeler;
            let (id, name, slug) = match kind {
                UnitKind::Kommune => (kommune_org.clone(), format!("{} kommune", kommune.navn), ""),
                UnitKind::Tildelingskontor => (
                    String::new(),
                    format!("{} kommune, tildelingskontoret", kommune.navn),
                    "tk",
                ),
                UnitKind::Hjemmesykepleie => (
                    String::new(),
                    format!("Hjemmesykepleien sone {}", kommune.bydeler[bydel]),
                    "hs",
                ),
                UnitKind::Sykehjem => (
                    String::new(),
                    format!("{} sykehjem", kommune.bydeler[bydel]),
                    "sh",
                ),
                UnitKind::Legevakt => (String::new(), format!("{} legevakt", kommune.navn), "lv"),
                UnitKind::Helsestasjon => (
                    String::new(),
                    format!("{} helsestasjon", kommune.bydeler[bydel]),
                    "hst",
                ),
                UnitKind::Fastlegekontor => (
                    String::new(),
                    format!("{} legesenter", kommune.bydeler[bydel]),
                    "fl",
                ),
            };
            let id = if id.is_empty() {
                format!("org-{}-{slug}{}", kommune.nummer, i + 1)
            } else {
                id
            };
            let orgnr = next_orgnr();
            let (postnr, poststed) = kommune.poststeder[bydel % kommune.poststeder.len()];
            let mut org = json!({
                "resourceType": "Organization",
                "id": id,
                "meta": meta("2024-01-02T08:00:00Z"),
                "identifier": [{"use": "official", "system": systems::ORGNR, "value": orgnr}],
                "active": true,
                "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                    "code": if kind == UnitKind::Kommune { "govt" } else { "prov" }}], "text": format!("{kind:?}")}],
                "name": name,
                "address": [{"use": "work", "line": [format!("{} {}", names::STREETS[(i * 7 + bydel) % names::STREETS.len()], 1 + i)],
                    "postalCode": postnr, "city": poststed, "country": "NO"}],
            });
            if kind != UnitKind::Kommune {
                org["partOf"] = reference("Organization", &kommune_org);
            }
            sk.resources.push(Resource {
                resource_type: "Organization",
                id: id.clone(),
                patient: None,
                json: org,
            });
            let unit = sk.units.len();
            sk.units.push(Unit {
                truth: UnitTruth {
                    id: id.clone(),
                    orgnr,
                    name,
                    kind,
                },
                bydel,
                staff: Vec::new(),
            });
            for &category in staffing {
                let p = sk.practitioners.len();
                let pid = format!("hp-{}-{}", kommune.nummer, p + 1);
                let female = rng.random_bool(0.7);
                let (given, family) = person_name(&mut rng, female, 0.04);
                let hpr = next_hpr();
                let cat = codes::KATEGORI_HELSEPERSONELL
                    .iter()
                    .find(|c| c.code == category)
                    .expect("known category");
                sk.resources.push(Resource {
                    resource_type: "Practitioner",
                    id: pid.clone(),
                    patient: None,
                    json: json!({
                        "resourceType": "Practitioner", "id": pid, "meta": meta("2024-01-02T08:00:00Z"),
                        "identifier": [{"use": "official", "system": systems::HPR, "value": hpr}],
                        "active": true,
                        "name": [{"use": "official", "family": family, "given": [given]}],
                        "gender": if female { "female" } else { "male" },
                        "qualification": [{"code": concept(systems::VOLVEN_9060, cat)}],
                    }),
                });
                let role_id = format!("pr-{}-{}", kommune.nummer, p + 1);
                sk.resources.push(Resource {
                    resource_type: "PractitionerRole",
                    id: role_id.clone(),
                    patient: None,
                    json: json!({
                        "resourceType": "PractitionerRole", "id": role_id, "meta": meta("2024-01-02T08:00:00Z"),
                        "active": true,
                        "practitioner": reference("Practitioner", &pid),
                        "organization": reference("Organization", &id),
                        "code": [concept(systems::VOLVEN_9060, cat)],
                    }),
                });
                sk.units[unit].staff.push(p);
                sk.practitioners.push(PractitionerTruth {
                    id: pid,
                    hpr,
                    name: format!("{given} {family}"),
                    category: cat.code,
                    units: vec![id.clone()],
                });
            }
        }
    }
    sk
}

impl Skeleton {
    pub(crate) fn kommune(&self) -> &'static KommuneInfo {
        self.kommune
    }

    pub(crate) fn resources(&self) -> &[Resource] {
        &self.resources
    }

    pub(crate) fn truth(&self) -> Truth {
        Truth {
            units: self.units.iter().map(|u| u.truth.clone()).collect(),
            practitioners: self.practitioners.clone(),
            ..Truth::default()
        }
    }
}
