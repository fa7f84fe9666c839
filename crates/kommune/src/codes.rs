//! Code lists the generator draws from and the platform validates writes against.
//!
//! Codes and displays are from the national code systems (Volven, ICPC-2, ICD-10, ATC, NLK) and
//! LOINC; each list is a realistic subset for kommunal primærhelsetjeneste, not the whole system.
//! Systems are in [`sandkasse_fhir::systems`].

use sandkasse_fhir::systems;

/// A code with its display text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub display: &'static str,
}

const fn c(code: &'static str, display: &'static str) -> Code {
    Code { code, display }
}

/// Volven 9060: kategori helsepersonell. `XX` is used for saksbehandlere without a
/// helsepersonell authorisation.
pub static KATEGORI_HELSEPERSONELL: &[Code] = &[
    c("LE", "Lege"),
    c("SP", "Sykepleier"),
    c("HF", "Helsefagarbeider"),
    c("VP", "Vernepleier"),
    c("FT", "Fysioterapeut"),
    c("ET", "Ergoterapeut"),
    c("JO", "Jordmor"),
    c("HE", "Helsesekretær"),
    c("XX", "Ukjent/uspesifisert"),
];

/// Whether a Volven 9060 category is authorised helsepersonell (may read clinical data).
pub fn is_helsepersonell(category: &str) -> bool {
    KATEGORI_HELSEPERSONELL.iter().any(|k| k.code == category) && category != "XX"
}

/// Volven 9151: kommunale helse- og omsorgstjenester (tjenestetype), the subset used for vedtak.
pub static TJENESTETYPE: &[Code] = &[
    c("1", "Helsetjenester i hjemmet"),
    c("2", "Praktisk bistand - daglige gjøremål"),
    c("3", "Praktisk bistand - opplæring"),
    c("4", "Brukerstyrt personlig assistanse"),
    c("5", "Trygghetsalarm"),
    c("6", "Dagaktivitetstilbud"),
    c("7", "Matombringing"),
    c("8", "Korttidsopphold i institusjon - utredning/behandling"),
    c("9", "Korttidsopphold i institusjon - rehabilitering"),
    c("10", "Avlastning i institusjon"),
    c("11", "Langtidsopphold i institusjon"),
    c("12", "Omsorgsstønad"),
    c("13", "Støttekontakt"),
    c("14", "Helsestasjons- og skolehelsetjeneste"),
];

/// ICPC-2 diagnoses common in kommunal care, with their ICD-10 counterparts.
pub static DIAGNOSER: &[(Code, Code)] = &[
    (
        c("T90", "Diabetes type 2"),
        c("E11.9", "Diabetes mellitus type 2 uten komplikasjoner"),
    ),
    (
        c("K86", "Hypertensjon ukomplisert"),
        c("I10", "Essensiell (primær) hypertensjon"),
    ),
    (
        c("K77", "Hjertesvikt"),
        c("I50.9", "Uspesifisert hjertesvikt"),
    ),
    (
        c("K78", "Atrieflimmer/flutter"),
        c("I48.9", "Uspesifisert atrieflimmer og atrieflutter"),
    ),
    (
        c("R95", "Kronisk obstruktiv lungesykdom"),
        c("J44.9", "Uspesifisert kronisk obstruktiv lungesykdom"),
    ),
    (c("P70", "Demens"), c("F03", "Uspesifisert demens")),
    (c("N87", "Parkinsonisme"), c("G20", "Parkinsons sykdom")),
    (
        c("P76", "Depressiv lidelse"),
        c("F32.9", "Uspesifisert depressiv episode"),
    ),
    (
        c("K90", "Hjerneslag"),
        c("I63.9", "Uspesifisert hjerneinfarkt"),
    ),
    (
        c("L89", "Artrose hofte"),
        c("M16.9", "Uspesifisert koksartrose"),
    ),
    (
        c("L90", "Artrose kne"),
        c("M17.9", "Uspesifisert gonartrose"),
    ),
    (
        c("L95", "Osteoporose"),
        c("M81.9", "Uspesifisert osteoporose"),
    ),
    (
        c("S97", "Kronisk sår"),
        c(
            "L97",
            "Sår på underekstremitet, ikke klassifisert annet sted",
        ),
    ),
    (
        c("U71", "Cystitt/urinveisinfeksjon"),
        c("N39.0", "Urinveisinfeksjon med uspesifisert lokalisasjon"),
    ),
    (c("R81", "Pneumoni"), c("J18.9", "Uspesifisert pneumoni")),
    (
        c("B80", "Jernmangelanemi"),
        c("D50.9", "Uspesifisert jernmangelanemi"),
    ),
    (c("L75", "Lårhalsbrudd"), c("S72.0", "Brudd i lårbenshals")),
    (
        c("A04", "Slapphet/tretthet"),
        c("R53", "Uvelhet og tretthet"),
    ),
];

/// Legevakt reasons for encounter (ICPC-2).
pub static LEGEVAKT_ARSAKER: &[Code] = &[
    c("A03", "Feber"),
    c("R05", "Hoste"),
    c("L81", "Skade muskel/skjelett IKA"),
    c("S18", "Rift/kutt"),
    c("D01", "Generelle magesmerter/kolikk"),
    c("K01", "Smerte tilskrevet hjertet"),
    c("N17", "Vertigo/svimmelhet"),
    c("U71", "Cystitt/urinveisinfeksjon"),
    c("H71", "Akutt mellomørebetennelse"),
    c("P06", "Søvnforstyrrelse"),
];

/// Substances for AllergyIntolerance (ATC where the substance is a medicine).
pub static ALLERGENER: &[Code] = &[
    c("J01CE02", "Fenoksymetylpenicillin"),
    c("J01CA04", "Amoksicillin"),
    c("M01AE01", "Ibuprofen"),
    c("N02AA01", "Morfin"),
    c("J01EE01", "Sulfametoksazol og trimetoprim"),
];

/// Medicines (ATC) with a typical dosage text.
pub static LEGEMIDLER: &[(Code, &str)] = &[
    (c("C09AA05", "Ramipril"), "5 mg 1 gang daglig"),
    (c("C07AB02", "Metoprolol"), "50 mg 1 gang daglig"),
    (c("C10AA01", "Simvastatin"), "20 mg om kvelden"),
    (c("B01AC06", "Acetylsalisylsyre"), "75 mg 1 gang daglig"),
    (c("A10BA02", "Metformin"), "500 mg 2 ganger daglig"),
    (
        c("N02BE01", "Paracetamol"),
        "1 g inntil 4 ganger daglig ved behov",
    ),
    (c("N06AB04", "Citalopram"), "20 mg 1 gang daglig"),
    (c("N05CF01", "Zopiklon"), "5 mg om kvelden ved behov"),
    (c("B01AF02", "Apiksaban"), "5 mg 2 ganger daglig"),
    (c("C03CA01", "Furosemid"), "40 mg om morgenen"),
    (c("N06DA02", "Donepezil"), "10 mg om kvelden"),
    (c("A02BC01", "Omeprazol"), "20 mg 1 gang daglig"),
    (
        c("H03AA01", "Levotyroksinnatrium"),
        "100 mikrog om morgenen",
    ),
    (c("C08CA01", "Amlodipin"), "5 mg 1 gang daglig"),
    (
        c("N04BA02", "Levodopa og dekarboksylasehemmer"),
        "100/25 mg 3 ganger daglig",
    ),
    (
        c("A12AX", "Kalsium, kombinasjoner med vitamin D"),
        "1 tablett daglig",
    ),
];

/// A vital sign (VKP: vitale parametere) with its unit and a realistic range in tenths.
#[derive(Debug, Clone, Copy)]
pub struct VitalSign {
    pub loinc: Code,
    pub unit: &'static str,
    pub ucum: &'static str,
    /// Range of values ×10 (so integer arithmetic keeps output byte-stable).
    pub min_x10: i64,
    pub max_x10: i64,
}

/// Vital signs as recorded in kommunal care (LOINC, as in the FHIR vital signs profile).
pub static VITALE_PARAMETERE: &[VitalSign] = &[
    VitalSign {
        loinc: c("8867-4", "Hjertefrekvens"),
        unit: "/min",
        ucum: "/min",
        min_x10: 480,
        max_x10: 1100,
    },
    VitalSign {
        loinc: c("9279-1", "Respirasjonsfrekvens"),
        unit: "/min",
        ucum: "/min",
        min_x10: 100,
        max_x10: 260,
    },
    VitalSign {
        loinc: c("8310-5", "Kroppstemperatur"),
        unit: "°C",
        ucum: "Cel",
        min_x10: 358,
        max_x10: 392,
    },
    VitalSign {
        loinc: c("59408-5", "Oksygenmetning"),
        unit: "%",
        ucum: "%",
        min_x10: 880,
        max_x10: 1000,
    },
    VitalSign {
        loinc: c("29463-7", "Kroppsvekt"),
        unit: "kg",
        ucum: "kg",
        min_x10: 420,
        max_x10: 1100,
    },
];

/// Blood pressure panel and its components.
pub static BLODTRYKK: Code = c("85354-9", "Blodtrykk");
pub static SYSTOLISK: Code = c("8480-6", "Systolisk blodtrykk");
pub static DIASTOLISK: Code = c("8462-4", "Diastolisk blodtrykk");

/// A laboratory analysis (NLK) with its unit and reference range ×10.
#[derive(Debug, Clone, Copy)]
pub struct Analyse {
    pub nlk: Code,
    pub ucum: &'static str,
    pub min_x10: i64,
    pub max_x10: i64,
}

/// Common analyses in kommunal practice (NLK, NPU-based codes).
pub static ANALYSER: &[Analyse] = &[
    Analyse {
        nlk: c("NPU02319", "B-Hemoglobin"),
        ucum: "g/dL",
        min_x10: 95,
        max_x10: 165,
    },
    Analyse {
        nlk: c("NPU19748", "P-CRP"),
        ucum: "mg/L",
        min_x10: 10,
        max_x10: 1200,
    },
    Analyse {
        nlk: c("NPU27300", "B-HbA1c"),
        ucum: "mmol/mol",
        min_x10: 350,
        max_x10: 850,
    },
    Analyse {
        nlk: c("NPU18016", "P-Kreatinin"),
        ucum: "umol/L",
        min_x10: 450,
        max_x10: 1800,
    },
    Analyse {
        nlk: c("NPU03429", "P-Natrium"),
        ucum: "mmol/L",
        min_x10: 1300,
        max_x10: 1460,
    },
    Analyse {
        nlk: c("NPU03230", "P-Kalium"),
        ucum: "mmol/L",
        min_x10: 32,
        max_x10: 55,
    },
];

/// Document types (LOINC) for DocumentReference.
pub static DOKUMENTTYPER: &[Code] = &[
    c("18842-5", "Epikrise"),
    c("34746-8", "Sykepleienotat"),
    c("11488-4", "Konsultasjonsnotat"),
    c("28570-0", "Prosedyrenotat"),
];

/// Whether `code` is in the list for `system` — the platform's terminology check on writes.
pub fn is_known(system: &str, code: &str) -> bool {
    let any = |list: &[Code]| list.iter().any(|c| c.code == code);
    match system {
        systems::VOLVEN_9060 => any(KATEGORI_HELSEPERSONELL),
        systems::VOLVEN_9151 => any(TJENESTETYPE),
        systems::ICPC2 => DIAGNOSER.iter().any(|(i, _)| i.code == code) || any(LEGEVAKT_ARSAKER),
        systems::ICD10 => DIAGNOSER.iter().any(|(_, i)| i.code == code),
        systems::ATC => LEGEMIDLER.iter().any(|(a, _)| a.code == code) || any(ALLERGENER),
        systems::NLK => ANALYSER.iter().any(|a| a.nlk.code == code),
        systems::LOINC => {
            VITALE_PARAMETERE.iter().any(|v| v.loinc.code == code)
                || [BLODTRYKK, SYSTOLISK, DIASTOLISK]
                    .iter()
                    .any(|c| c.code == code)
                || any(DOKUMENTTYPER)
        }
        _ => false,
    }
}
