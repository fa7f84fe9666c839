//! One person: the sketch (age, sex, special case), identifiers, and the whole person generated
//! in parallel from its own random stream — Patient, care relations and the special cases.

use super::*;

/// Traits of a person decided before identifiers are assigned.
#[derive(Debug, Clone)]
pub(crate) struct Sketch {
    pub birth: Date,
    pub female: bool,
    pub dnr: bool,
}

/// Index of the forced special cases among the first persons of each kommune.
/// Days the fastlege relation lasts after a patient's death.
pub(super) const FASTLEGE_AFTER_DEATH_DAYS: i64 = 30;

pub(crate) mod forced {
    pub const STRENGT_FORTROLIG: usize = 1;
    pub const FORTROLIG: usize = 2;
    pub const DEAD_LONG_AGO: usize = 3;
    pub const DEAD_RECENTLY: usize = 4;
    pub const MOVED_IN: usize = 5;
    pub const SPERRING: usize = 6;
    pub const KRISESENTER: usize = 7;
    pub const OVERGREPSMOTTAK: usize = 8;
    pub const SENSITIVT: usize = 9;
    pub const DNR: usize = 10;
    pub const CHILD: usize = 11;
    /// Forced cases are 0..COUNT; person 0 is an ordinary elderly service recipient.
    pub const COUNT: usize = 12;
}

pub(super) fn sample_age(rng: &mut ChaCha8Rng) -> i64 {
    // Approximate Norwegian population pyramid in 10-year bands.
    const BANDS: [u32; 10] = [11, 12, 13, 14, 13, 13, 11, 9, 4, 1];
    let total: u32 = BANDS.iter().sum();
    let mut x = rng.random_range(0..total);
    for (band, w) in BANDS.iter().enumerate() {
        if x < *w {
            return band as i64 * 10 + rng.random_range(0..10);
        }
        x -= w;
    }
    95
}

pub(crate) fn sketch(seed: u64, tenant: usize, index: usize) -> Sketch {
    let mut rng = rng_for(seed, "sketch", tenant as u64, index as u64);
    let age = match index {
        forced::CHILD => rng.random_range(0..5),
        forced::DNR => rng.random_range(22..50),
        i if i < forced::COUNT => rng.random_range(70..96),
        _ => sample_age(&mut rng),
    };
    let birth = date_minus(REFERENCE_DATE, age * 365 + rng.random_range(0..365));
    let dnr = index == forced::DNR
        || (index >= forced::COUNT && (20..60).contains(&age) && rng.random_bool(0.03));
    Sketch {
        birth,
        female: rng.random_bool(0.51),
        dnr,
    }
}

/// Assigns fødselsnummer / D-nummer to every sketched person of the dataset, unique across it.
/// Sequential in (tenant, person) order, so the result is deterministic.
pub(crate) fn assign_identifiers(seed: u64, sketches: &[Vec<Sketch>]) -> Vec<Vec<String>> {
    let mut next: HashMap<(Date, bool, bool), u32> = HashMap::new();
    sketches
        .iter()
        .map(|persons| {
            persons
                .iter()
                .map(|s| {
                    let range = ids::individnummer_range(s.birth.year() as i32)
                        .expect("birth years are in range");
                    let key = (s.birth, s.female, s.dnr);
                    let counter = next.entry(key).or_insert_with(|| {
                        let mut r = rng_for(
                            seed,
                            "individnummer",
                            s.birth.year() as u64,
                            s.birth.day_of_year() as u64,
                        );
                        r.random_range(0..40) * 2
                    });
                    loop {
                        let i = range.start() + *counter + if s.female { 0 } else { 1 };
                        *counter += 2;
                        assert!(i <= *range.end(), "individnummer exhausted for {}", s.birth);
                        let (y, m, d) = (
                            s.birth.year() as i32,
                            s.birth.month() as u32,
                            s.birth.day() as u32,
                        );
                        let id = if s.dnr {
                            ids::dnr(y, m, d, i)
                        } else {
                            ids::fnr(y, m, d, i)
                        };
                        if let Some(id) = id {
                            return id;
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// What one person's generation produced.
#[derive(Debug, Default)]
pub(crate) struct PersonOut {
    /// (tenant index, resource).
    pub resources: Vec<(usize, Resource)>,
    pub patients: Vec<(usize, PatientTruth)>,
    pub relations: Vec<(usize, CareRelation)>,
    pub shielded: Vec<(usize, ShieldedResource)>,
}

/// Shared inputs of person generation.
#[derive(Debug)]
pub(crate) struct World<'a> {
    pub seed: u64,
    pub skeletons: &'a [Skeleton],
    pub sketches: &'a [Vec<Sketch>],
    pub identifiers: &'a [Vec<String>],
}

pub(super) struct Ctx<'a> {
    pub(super) out: PersonOut,
    pub(super) rng: ChaCha8Rng,
    pub(super) tenant: usize,
    pub(super) sk: &'a Skeleton,
    pub(super) patient_id: String,
    pub(super) index: usize,
    pub(super) serial: usize,
}

impl Ctx<'_> {
    pub(super) fn id(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}-{}-{}", &self.patient_id[4..], self.serial)
    }

    pub(super) fn push(&mut self, resource_type: &'static str, id: String, json: Value) {
        let patient = Some(self.patient_id.clone());
        self.out.resources.push((
            self.tenant,
            Resource {
                resource_type,
                id,
                patient,
                json,
            },
        ));
    }

    pub(super) fn relation(
        &mut self,
        unit: usize,
        basis: CareBasis,
        start: Date,
        end: Option<Date>,
    ) {
        let rel = CareRelation {
            unit: self.sk.units[unit].truth.id.clone(),
            patient: self.patient_id.clone(),
            basis,
            start: start.to_string(),
            end: end.map(|d| d.to_string()),
        };
        self.out.relations.push((self.tenant, rel));
    }

    pub(super) fn shield(&mut self, resource_type: &'static str, id: &str, skjerming: Skjerming) {
        let s = ShieldedResource {
            resource_type,
            id: id.to_owned(),
            patient: self.patient_id.clone(),
            skjerming,
        };
        self.out.shielded.push((self.tenant, s));
    }

    pub(super) fn day_between(&mut self, from: Date, to: Date) -> Date {
        let span = (to - from).get_days().max(0) as i64;
        date_minus(to, self.rng.random_range(0..=span))
    }

    pub(super) fn minutes(&mut self) -> i64 {
        self.rng.random_range(7 * 60..21 * 60)
    }
}

/// One person's life in the data: Patient, vedtak, diagnoses, medicines, measurements, documents,
/// legevakt visits, and (for movers) the record left in the kommune they moved from.
pub(crate) fn person(world: &World<'_>, tenant: usize, index: usize) -> PersonOut {
    let sk = &world.skeletons[tenant];
    let sketch = &world.sketches[tenant][index];
    let identifier = &world.identifiers[tenant][index];
    let mut rng = rng_for(world.seed, "person", tenant as u64, index as u64);
    let knr = sk.kommune.nummer;
    let age = (REFERENCE_DATE - sketch.birth).get_days() as i64 / 365;

    let hammerfest_like = matches!(knr, "5603");
    let (given, family) = person_name(
        &mut rng,
        sketch.female,
        if hammerfest_like { 0.15 } else { 0.03 },
    );
    let bydel = rng.random_range(0..sk.kommune.bydeler.len());
    let protection = match index {
        forced::STRENGT_FORTROLIG => AddressProtection::StrengtFortrolig,
        forced::FORTROLIG => AddressProtection::Fortrolig,
        i if i < forced::COUNT => AddressProtection::None,
        _ => match rng.random_range(0..1000) {
            0..=1 => AddressProtection::StrengtFortrolig,
            2..=6 => AddressProtection::Fortrolig,
            _ => AddressProtection::None,
        },
    };
    let deceased: Option<Date> = match index {
        forced::DEAD_LONG_AGO => Some(date_minus(REFERENCE_DATE, rng.random_range(3700..5400))),
        // Within the fastlege's days after a death, so one deceased person in every kommune has
        // a unit with tjenstlig behov.
        forced::DEAD_RECENTLY => Some(date_minus(REFERENCE_DATE, rng.random_range(5..25))),
        i if i < forced::COUNT => None,
        _ => {
            let p = match age {
                90.. => 0.12,
                80..=89 => 0.07,
                70..=79 => 0.025,
                _ => 0.002,
            };
            rng.random_bool(p)
                .then(|| date_minus(REFERENCE_DATE, rng.random_range(1..5400)))
        }
    }
    .map(|d| d.max(sketch.birth.checked_add(1.days()).expect("in range")));
    let tenants = world.skeletons.len();
    let moved_from: Option<(usize, Date)> = (tenants > 1 && deceased.is_none())
        .then(|| {
            let moves =
                index == forced::MOVED_IN || (index >= forced::COUNT && rng.random_bool(0.02));
            moves.then(|| {
                let other = (tenant + rng.random_range(1..tenants)) % tenants;
                (
                    other,
                    date_minus(REFERENCE_DATE, rng.random_range(40..2000)).max(sketch.birth),
                )
            })
        })
        .flatten();
    let service_recipient = index < forced::COUNT && index != forced::CHILD && index != forced::DNR
        || {
            let p = match age {
                80.. => 0.40,
                67..=79 => 0.10,
                50..=66 => 0.025,
                _ => 0.008,
            };
            rng.random_bool(p)
        };

    let patient_id = format!("pas-{knr}-{index:06}");
    let mut cx = Ctx {
        out: PersonOut::default(),
        rng,
        tenant,
        sk,
        patient_id: patient_id.clone(),
        index,
        serial: 0,
    };

    let street = names::STREETS.choose(&mut cx.rng).expect("streets");
    let (postnr, poststed) = *sk
        .kommune
        .poststeder
        .choose(&mut cx.rng)
        .expect("poststeder");
    let house = cx.rng.random_range(1..120);
    let mut addresses = vec![json!({
        "use": "home", "type": "physical",
        "line": [format!("{street} {house}")], "postalCode": postnr, "city": poststed,
        "district": sk.kommune.navn, "country": "NO",
    })];
    if let Some((from, date)) = moved_from {
        let old = world.skeletons[from].kommune;
        addresses[0]["period"] = json!({"start": date.to_string()});
        addresses.push(json!({
            "use": "old", "type": "physical", "line": [format!("{} {}", names::STREETS[index % names::STREETS.len()], 1 + index % 40)],
            "postalCode": old.poststeder[0].0, "city": old.poststeder[0].1, "district": old.navn, "country": "NO",
            "period": {"end": date.to_string()},
        }));
    }
    let fastlege = sk.unit_for(UnitKind::Fastlegekontor, bydel);
    let last_day = deceased.unwrap_or(REFERENCE_DATE);
    let since = cx.day_between(
        sketch.birth.max(date_minus(last_day, 3650)),
        date_minus(last_day, 1).max(sketch.birth),
    );
    let since = match moved_from {
        Some((_, date)) => since.max(date),
        None => since,
    };
    let mut patient = json!({
        "resourceType": "Patient",
        "id": patient_id,
        "meta": meta(&ts(since, 8 * 60)),
        "identifier": [{"use": "official", "system": if sketch.dnr { systems::DNR } else { systems::FNR }, "value": identifier}],
        "active": true,
        "name": [{"use": "official", "family": family, "given": [given], "text": format!("{given} {family}")}],
        "gender": if sketch.female { "female" } else { "male" },
        "birthDate": sketch.birth.to_string(),
        "address": addresses,
        "generalPractitioner": [reference("Organization", &sk.units[fastlege].truth.id)],
        "managingOrganization": reference("Organization", &format!("org-{knr}")),
    });
    if let Some(d) = deceased {
        patient["deceasedDateTime"] = json!(d.to_string());
    }
    let skjerming = match protection {
        AddressProtection::StrengtFortrolig => Some(Skjerming::StrengtFortroligAdresse),
        AddressProtection::Fortrolig => Some(Skjerming::FortroligAdresse),
        AddressProtection::None => None,
    };
    if let Some(s) = skjerming {
        patient["meta"]["security"] = security_labels(s);
    }
    let pid = cx.patient_id.clone();
    cx.push("Patient", pid.clone(), patient);
    if let Some(s) = skjerming {
        cx.shield("Patient", &pid, s);
    }
    let truth = PatientTruth {
        id: pid.clone(),
        identifier: identifier.clone(),
        identifier_kind: if sketch.dnr {
            IdentifierKind::Dnr
        } else {
            IdentifierKind::Fnr
        },
        name: format!("{given} {family}"),
        birth_date: sketch.birth.to_string(),
        gender: if sketch.female { "female" } else { "male" },
        deceased: deceased.map(|d| d.to_string()),
        address_protection: protection,
        moved: moved_from.map(|(from, date)| Move {
            from: world.skeletons[from].kommune.nummer.to_owned(),
            to: knr.to_owned(),
            date: date.to_string(),
        }),
        resident: true,
    };
    cx.out.patients.push((tenant, truth.clone()));

    let end_of_life = deceased;
    let start_here = moved_from.map(|(_, d)| d).unwrap_or(sketch.birth);
    let latest = end_of_life.unwrap_or(REFERENCE_DATE);
    // After a death the fastlege still completes the record (dødsmelding, the last letters) for
    // a while: the relation ends FASTLEGE_AFTER_DEATH_DAYS after the death.
    cx.relation(
        fastlege,
        CareBasis::Fastlege,
        since,
        end_of_life.map(|d| date_minus(d, -FASTLEGE_AFTER_DEATH_DAYS)),
    );

    if age < 6 || index == forced::CHILD {
        let hst = sk.unit_for(UnitKind::Helsestasjon, bydel);
        vedtak(
            &mut cx,
            hst,
            (systems::VOLVEN_8663, &codes::HELSESTASJON),
            sketch.birth.max(start_here),
            None,
            CareBasis::Helsestasjon,
        );
    }
    if service_recipient {
        record(&mut cx, bydel, start_here, latest, end_of_life, age);
    }
    let legevakt_p = if index < forced::COUNT { 1.0 } else { 0.06 };
    if cx.rng.random_bool(legevakt_p) {
        for _ in 0..cx.rng.random_range(1..=2) {
            legevakt(&mut cx, start_here.max(date_minus(latest, 1100)), latest);
        }
    }
    special_cases(&mut cx, index, start_here, latest);

    if let Some((from, date)) = moved_from {
        left_behind(world, &mut cx, &truth, from, date);
    }
    cx.out
}

/// Shielded documents and sperringer: forced for the first persons, rare after them.
pub(super) fn special_cases(cx: &mut Ctx<'_>, index: usize, from: Date, to: Date) {
    let from = from.max(date_minus(to, 900));
    let main_unit = cx.sk.unit_for(UnitKind::Hjemmesykepleie, 0);
    let lv = cx.sk.units_of(UnitKind::Legevakt)[0];
    let roll = if index < forced::COUNT {
        u32::MAX
    } else {
        cx.rng.random_range(0..1000)
    };
    if index == forced::KRISESENTER || roll < 3 {
        document(
            cx,
            main_unit,
            &codes::DOKUMENTTYPER[1],
            from,
            to,
            Some(Skjerming::Krisesenter),
        );
    }
    if index == forced::OVERGREPSMOTTAK || (3..5).contains(&roll) {
        document(
            cx,
            lv,
            &codes::DOKUMENTTYPER[2],
            from,
            to,
            Some(Skjerming::Overgrepsmottak),
        );
    }
    if index == forced::SENSITIVT || (5..10).contains(&roll) {
        document(
            cx,
            main_unit,
            &codes::DOKUMENTTYPER[2],
            from,
            to,
            Some(Skjerming::SensitivtNotat),
        );
    }
    if index == forced::SPERRING || (10..20).contains(&roll) {
        let doc = document(cx, main_unit, &codes::DOKUMENTTYPER[0], from, to, None);
        let day = cx.day_between(from, to);
        let id = cx.id("cons");
        let json = json!({
            "resourceType": "Consent", "id": id, "meta": meta(&ts(day, 9 * 60)),
            "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
            "category": [{"coding": [coding(systems::LOINC, &codes::SAMTYKKE)]}],
            "patient": reference("Patient", &cx.patient_id),
            "dateTime": ts(day, 9 * 60),
            "policyRule": {"text": "Sperring etter pasientjournalloven § 17 / pasient- og brukerrettighetsloven § 5-1"},
            "provision": {"type": "deny", "data": [{"meaning": "instance", "reference": reference("DocumentReference", &doc)}]},
        });
        cx.push("Consent", id, json);
        cx.shield("DocumentReference", &doc, Skjerming::Sperring);
    }
}

/// The record a mover left in the kommune they moved from: an inactive Patient, an ended vedtak
/// and an old measurement.
pub(super) fn left_behind(
    world: &World<'_>,
    cx: &mut Ctx<'_>,
    truth: &PatientTruth,
    from: usize,
    date: Date,
) {
    let old = &world.skeletons[from];
    let old_id = format!(
        "pas-{}-x{}-{:06}",
        old.kommune.nummer, cx.sk.kommune.nummer, cx.index
    );
    let birth: Date = truth.birth_date.parse().expect("ISO date");
    let start = date_minus(date, cx.rng.random_range(200..3000)).max(birth);
    let (given, family) = truth.name.split_once(' ').expect("given and family name");
    let patient = json!({
        "resourceType": "Patient", "id": old_id, "meta": meta(&ts(date, 8 * 60)),
        "identifier": [{"use": "official",
            "system": if truth.identifier_kind == IdentifierKind::Dnr { systems::DNR } else { systems::FNR },
            "value": truth.identifier}],
        "active": false,
        "name": [{"use": "official", "family": family, "given": [given], "text": truth.name}],
        "gender": truth.gender,
        "birthDate": truth.birth_date,
        "address": [{"use": "old", "type": "physical", "line": ["Flyttet"], "postalCode": old.kommune.poststeder[0].0,
            "city": old.kommune.poststeder[0].1, "district": old.kommune.navn, "country": "NO",
            "period": {"end": date.to_string()}}],
        "managingOrganization": reference("Organization", &format!("org-{}", old.kommune.nummer)),
    });
    let mut old_truth = truth.clone();
    old_truth.id = old_id.clone();
    old_truth.resident = false;
    old_truth.address_protection = AddressProtection::None;
    let mut ocx = Ctx {
        out: PersonOut::default(),
        rng: rng_for(world.seed, "left-behind", from as u64, cx.index as u64),
        tenant: from,
        sk: old,
        patient_id: old_id.clone(),
        index: cx.index,
        serial: 0,
    };
    ocx.push("Patient", old_id, patient);
    ocx.out.patients.push((from, old_truth));
    let fastlege = old.unit_for(UnitKind::Fastlegekontor, 0);
    ocx.relation(fastlege, CareBasis::Fastlege, start, Some(date));
    let hs = old.unit_for(UnitKind::Hjemmesykepleie, 0);
    let vstart = ocx.day_between(start, date);
    vedtak(
        &mut ocx,
        hs,
        (systems::VOLVEN_9151, &codes::HELSETJENESTER_I_HJEMMET),
        vstart,
        Some(date),
        CareBasis::Vedtak,
    );
    document(&mut ocx, hs, &codes::DOKUMENTTYPER[1], vstart, date, None);
    let out = ocx.out;
    cx.out.resources.extend(out.resources);
    cx.out.patients.extend(out.patients);
    cx.out.relations.extend(out.relations);
    cx.out.shielded.extend(out.shielded);
}
