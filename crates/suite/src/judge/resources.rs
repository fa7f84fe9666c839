//! Resource use: fuel, memory and component size within the limits.

use super::{Evidence, Judgement, calls, fail, pass, pass_unless};

pub(super) fn fuel_within(e: &Evidence<'_>, max: &u64) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .filter(|(_, c)| c.fuel_used > *max)
        .map(|(i, c)| format!("steg {i} `{}`: {} fuel", c.call, c.fuel_used))
        .collect();
    pass_unless(
        bad,
        format!("høyst {max} fuel per kall"),
        format!("for mye CPU (fuel) per kall, grensen er {max} / too much CPU per call"),
    )
}

pub(super) fn memory_within(e: &Evidence<'_>, max_bytes: &u64) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .filter(|(_, c)| c.peak_memory_bytes > *max_bytes)
        .map(|(i, c)| format!("steg {i} `{}`: {} byte", c.call, c.peak_memory_bytes))
        .collect();
    pass_unless(
        bad,
        format!("høyst {max_bytes} byte minne"),
        format!("for mye minne, grensen er {max_bytes} byte / too much memory"),
    )
}

pub(super) fn component_size_within(e: &Evidence<'_>, max_bytes: &u64) -> Judgement {
    let component_size = e.component_size;
    if component_size as u64 <= *max_bytes {
        pass(format!("{component_size} byte"))
    } else {
        fail(
            format!(
                "komponenten er {component_size} byte, grensen er {max_bytes} / the component is too large"
            ),
            vec![],
        )
    }
}
