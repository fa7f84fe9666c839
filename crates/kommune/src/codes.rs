//! Code lists the generator draws from and the platform validates writes against.
//!
//! Codes and displays follow the published code systems (Volven, ICPC-2, ICD-10, ATC, NLK, LOINC);
//! each list is a realistic subset for kommunal primærhelsetjeneste, not the whole system. The
//! sources, with version, date and licence, are vendored in `conformance/valuesets/` (see its
//! README), and `tests/all/valuesets.rs` checks every code and display here against them.
//! Systems are in [`sandkasse_fhir::systems`].

use std::sync::OnceLock;

use sandkasse_fhir::systems;

/// A code with its display (the code system's own) and the text a Norwegian user reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    /// The display the code system gives the code (`Coding.display`).
    pub display: &'static str,
    /// The Norwegian text (`CodeableConcept.text`); the display where the code system is Norwegian.
    pub text: &'static str,
}

const fn c(code: &'static str, display: &'static str) -> Code {
    Code {
        code,
        display,
        text: display,
    }
}

/// A code whose code system's display is not Norwegian (LOINC): `text` is what users read.
const fn t(code: &'static str, display: &'static str, text: &'static str) -> Code {
    Code {
        code,
        display,
        text,
    }
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

/// Volven 9151 (IPLOS tjenestetype): helsetjenester i hjemmet, the example in the WIT.
pub const HELSETJENESTER_I_HJEMMET: Code = c("15", "Helsetjenester i hjemmet");
/// Volven 9151: praktisk bistand - daglige gjøremål (hjemmehjelp).
pub const PRAKTISK_BISTAND: Code = c("1", "Praktisk bistand - daglige gjøremål");
/// Volven 9151: dagaktivitetstilbud.
pub const DAGAKTIVITETSTILBUD: Code = c("4", "Dagaktivitetstilbud");
/// Volven 9151: matombringing.
pub const MATOMBRINGING: Code = c("5", "Matombringing");
/// Volven 9151: omsorgsstønad.
pub const OMSORGSSTONAD: Code = c("11", "Omsorgsstønad");
/// Volven 9151: trygghetsalarm.
pub const TRYGGHETSALARM: Code = c("6", "Trygghetsalarm");
/// Volven 9151: tidsbegrenset opphold for utredning/behandling (korttidsopphold).
pub const TIDSBEGRENSET_OPPHOLD: Code = c("18", "Tidsbegrenset opphold - utredning/behandling");
/// Volven 9151: langtidsopphold i institusjon.
pub const LANGTIDSOPPHOLD: Code = c("21", "Langtidsopphold i institusjon");

/// Volven 9151 (IPLOS tjenestetyper), the whole code system as HL7 Norway publishes it
/// (`conformance/valuesets/volven-9151.json`): the platform accepts every tjenestetype on a vedtak;
/// the generator draws from the named ones above.
pub static TJENESTETYPE: &[Code] = &[
    PRAKTISK_BISTAND,
    c("2", "Praktisk bistand - opplæring - daglige gjøremål"),
    c("3", "Praktisk bistand - brukerstyrt - personlig assistanse"),
    DAGAKTIVITETSTILBUD,
    MATOMBRINGING,
    TRYGGHETSALARM,
    c("7", "Avlastning utenfor institusjon"),
    c("8", "Avlastning i institusjon"),
    c("9", "Støttekontakt"),
    OMSORGSSTONAD,
    c(
        "14",
        "Bruk av tvang psykisk utviklingshemning – planlagte tiltak",
    ),
    HELSETJENESTER_I_HJEMMET,
    c("17", "Dagopphold i institusjon"),
    TIDSBEGRENSET_OPPHOLD,
    c("19", "Tidsbegrenset opphold - habilitering/rehabilitering"),
    c("20", "Tidsbegrenset opphold - annet"),
    LANGTIDSOPPHOLD,
    c("22", "Nattopphold i institusjon"),
    c(
        "23",
        "Bruk av tvang psykisk utviklingshemning – nødsituasjoner",
    ),
    c("24", "Helsehjelp med tvang"),
    c("25", "Kommunal øyeblikkelig hjelp - døgnopphold"),
    c("26", "Lokaliseringsteknologi (GPS)"),
    c("27", "Elektronisk medisineringsstøtte"),
    c("28", "Digitalt tilsyn"),
    c(
        "29",
        "Bolig som kommunen disponerer for helse- og omsorgsformål",
    ),
];

/// Volven 8663 (tjenestetyper for kommunal helse- og omsorgstjeneste): helsestasjon follow-up of
/// small children, which is not a vedtak and so has no Volven 9151 code.
pub const HELSESTASJON: Code = c("KF01", "Helsestasjons- og skolehelsetjeneste");

/// ICPC-2 diagnoses common in kommunal care, with their ICD-10 counterparts.
pub static DIAGNOSER: &[(Code, Code)] = &[
    (
        c("T90", "Diabetes type 2"),
        c("E11.9", "Diabetes mellitus type 2 uten kompl"),
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
        c("L89", "Hofteleddsartrose"),
        c("M16.9", "Uspesifisert hofteleddsartrose"),
    ),
    (
        c("L90", "Kneleddsartrose"),
        c("M17.9", "Uspesifisert kneleddsartrose"),
    ),
    (
        c("L95", "Osteoporose"),
        c("M81.9", "Uspesifisert osteoporose"),
    ),
    (
        c("S97", "Kronisk hudsår"),
        c(
            "L97",
            "Sår på underekstremitet, ikke klassifisert annet sted",
        ),
    ),
    (
        c("U71", "Cystitt/urinveisinfeksjon IKA"),
        c("N39.0", "Urinveisinfeksjon med uspesifisert lokalisasjon"),
    ),
    (
        c("R81", "Lungebetennelse"),
        c("J18.9", "Uspesifisert pneumoni"),
    ),
    (
        c("B80", "Jernmangelanemi"),
        c("D50.9", "Uspesifisert jernmangelanemi"),
    ),
    (
        c("L75", "Brudd lårben/lårhals"),
        c("S72.0", "Brudd i lårhals"),
    ),
    (
        c("A04", "Slapphet/tretthet"),
        c("R53", "Uvelhet og tretthet"),
    ),
];

/// Legevakt reasons for encounter (ICPC-2).
pub static LEGEVAKT_ARSAKER: &[Code] = &[
    c("A03", "Feber"),
    c("R05", "Hoste"),
    c("L81", "Skade muskel-skj-syst IKA"),
    c("S18", "Åpent sår/kutt"),
    c("D01", "Abdominalsmerte/krampe generell"),
    c("K01", "Smerte relatert til hjertet"),
    c("N17", "Svimmelhet IKA"),
    c("U71", "Cystitt/urinveisinfeksjon IKA"),
    c("H71", "Mellomørebetennelse akutt"),
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
        c(
            "A12AX",
            "Kalsium, kombinasjoner med vitamin D og/eller andre midler",
        ),
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
        loinc: t("8867-4", "Heart rate", "Hjertefrekvens"),
        unit: "/min",
        ucum: "/min",
        min_x10: 480,
        max_x10: 1100,
    },
    VitalSign {
        loinc: t("9279-1", "Respiratory rate", "Respirasjonsfrekvens"),
        unit: "/min",
        ucum: "/min",
        min_x10: 100,
        max_x10: 260,
    },
    VitalSign {
        loinc: t("8310-5", "Body temperature", "Kroppstemperatur"),
        unit: "°C",
        ucum: "Cel",
        min_x10: 358,
        max_x10: 392,
    },
    VitalSign {
        loinc: t(
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
            "Oksygenmetning",
        ),
        unit: "%",
        ucum: "%",
        min_x10: 880,
        max_x10: 1000,
    },
    VitalSign {
        loinc: t("29463-7", "Body Weight", "Kroppsvekt"),
        unit: "kg",
        ucum: "kg",
        min_x10: 420,
        max_x10: 1100,
    },
];

/// Blood pressure panel and its components.
pub static BLODTRYKK: Code = t(
    "85354-9",
    "Blood pressure panel with all children optional",
    "Blodtrykk",
);
pub static SYSTOLISK: Code = t("8480-6", "Systolic blood pressure", "Systolisk blodtrykk");
pub static DIASTOLISK: Code = t("8462-4", "Diastolic blood pressure", "Diastolisk blodtrykk");

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
        // NPU02319 is defined in mmol/L (B—Haemoglobin(Fe); subst.c.): 5.9–10.2 mmol/L is
        // 9.5–16.5 g/dL.
        ucum: "mmol/L",
        min_x10: 59,
        max_x10: 102,
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
    t("18842-5", "Discharge summary", "Epikrise"),
    t("34746-8", "Nurse Note", "Sykepleienotat"),
    t("11488-4", "Consult note", "Konsultasjonsnotat"),
    t("28570-0", "Procedure note", "Prosedyrenotat"),
];

/// DiagnosticReport code of a laboratory report.
pub static LABORATORIERAPPORT: Code = t("11502-2", "Laboratory report", "Laboratorierapport");

/// Consent category of a sperring (the patient's Consent that denies access to a document).
pub static SAMTYKKE: Code = t("59284-0", "Patient Consent", "Samtykke");

/// Every code list by its code system: what the platform accepts on writes and the generator draws
/// from. One place, so the platform's check ([`is_known`]), `docs/code-lists.md` and the test
/// against the vendored sources (`tests/all/valuesets.rs`) cannot disagree.
pub fn code_lists() -> &'static [(&'static str, Vec<Code>)] {
    static LISTS: OnceLock<Vec<(&'static str, Vec<Code>)>> = OnceLock::new();
    LISTS.get_or_init(|| {
        vec![
            (systems::VOLVEN_9060, KATEGORI_HELSEPERSONELL.to_vec()),
            (systems::VOLVEN_9151, TJENESTETYPE.to_vec()),
            (systems::VOLVEN_8663, vec![HELSESTASJON]),
            (
                systems::ICPC2,
                DIAGNOSER
                    .iter()
                    .map(|(i, _)| *i)
                    .chain(LEGEVAKT_ARSAKER.iter().copied())
                    .collect(),
            ),
            (systems::ICD10, DIAGNOSER.iter().map(|(_, i)| *i).collect()),
            (
                systems::ATC,
                LEGEMIDLER
                    .iter()
                    .map(|(a, _)| *a)
                    .chain(ALLERGENER.iter().copied())
                    .collect(),
            ),
            (systems::NLK, ANALYSER.iter().map(|a| a.nlk).collect()),
            (
                systems::LOINC,
                VITALE_PARAMETERE
                    .iter()
                    .map(|v| v.loinc)
                    .chain([BLODTRYKK, SYSTOLISK, DIASTOLISK])
                    .chain(DOKUMENTTYPER.iter().copied())
                    .chain([LABORATORIERAPPORT, SAMTYKKE])
                    .collect(),
            ),
        ]
    })
}

/// Whether `code` is in the list for `system` — the platform's terminology check on writes.
/// ICD-10 codes are accepted with or without their dot.
pub fn is_known(system: &str, code: &str) -> bool {
    code_lists()
        .iter()
        .filter(|(s, _)| *s == system)
        .flat_map(|(_, list)| list)
        .any(|c| c.code == code || (system == systems::ICD10 && same_undotted(c.code, code)))
}

/// Whether `dotted` without its dots is `plain` (`E11.9`, `E119`), without allocating: this runs
/// for every ICD-10 code of the list on every check.
fn same_undotted(dotted: &str, plain: &str) -> bool {
    dotted.bytes().filter(|&b| b != b'.').eq(plain.bytes())
}

/// An ICD-10 code without its dot, as KITH messages and many systems write it (`E11.9` → `E119`).
pub fn undotted(code: &str) -> String {
    code.replace('.', "")
}
