//! Name pools: common Norwegian names (with æ, ø, å), Sámi names and hyphenated double names.
//! Names are combined at random, so a generated person is never a particular real person; the
//! identifiers are what makes the data provably synthetic.

pub static FEMALE: &[&str] = &[
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Randi", "Solveig",
    "Ragnhild", "Gerd", "Åse", "Sølvi", "Jorunn", "Turid", "Kirsten", "Hilde", "Nora", "Emma", "Ella", "Sofie",
    "Maja", "Ingeborg", "Sigrid", "Tone", "Grethe", "Mette", "Torunn", "Synnøve", "Bodil", "Borghild", "Æsa",
    "Anne-Lise", "Mari-Ann", "Kari-Anne",
];

pub static MALE: &[&str] = &[
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Hans", "Odd", "Geir", "Tor",
    "Terje", "Rolf", "Jørgen", "Håkon", "Øystein", "Størker", "Jakob", "Emil", "Noah", "Oskar", "Filip",
    "Aksel", "Sverre", "Ørjan", "Åsmund", "Trygve", "Halvor", "Gunnar", "Leif", "Eirik", "Nils", "Jens",
    "Jan-Erik", "Per-Olav", "Tor-Arne",
];

pub static SURNAMES: &[&str] = &[
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
    "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen",
    "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Strand", "Solberg",
    "Bakken", "Kristoffersen", "Moen", "Gundersen", "Iversen", "Ødegård", "Sæther", "Næss", "Aasen",
    "Løkken", "Bråthen", "Røed", "Fjærli", "Åsheim", "Sæbø", "Berg-Hansen", "Lie-Nielsen", "Holm-Ødegård",
];

pub static SAMI_FEMALE: &[&str] = &["Máret", "Biret", "Sárá", "Ánne", "Elle", "Inga", "Risten", "Áilá", "Ristiinná"];
pub static SAMI_MALE: &[&str] = &["Áilu", "Ánde", "Niillas", "Mihkkal", "Issát", "Jovnna", "Piera", "Áslat", "Hánsa"];
pub static SAMI_SURNAMES: &[&str] = &["Gaup", "Somby", "Sara", "Hætta", "Utsi", "Eira", "Buljo", "Magga", "Balto", "Bongo", "Skum", "Oskal", "Triumf", "Máttis"];

pub static STREETS: &[&str] = &[
    "Storgata", "Kirkeveien", "Skoleveien", "Fjellveien", "Strandveien", "Solbakken", "Granveien", "Bjørkelia",
    "Furulunden", "Åsveien", "Hagebyveien", "Sjøgata", "Kongens gate", "Dronningens gate", "Nyveien",
    "Løvstien", "Tunveien", "Myrveien", "Bekkefaret", "Åkerveien", "Høgskoleringen", "Sætervegen",
];
