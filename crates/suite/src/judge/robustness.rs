//! Robustness of the calls themselves: they succeed, do not trap, answer the expected error, honour Retry-After, retry within bounds and never resend a refused request.

use sandkasse_sandbox::Outcome as CallOutcome;

use super::{
    Evidence, Judgement, calls, describe, error, excerpt, fail, header, output, output_text, pass,
    pass_unless, platform_exchanges,
};

pub(super) fn calls_succeed(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    // Judged on the outcome; egress attempts are judged by their own vilkår.
    let bad: Vec<String> = calls(s)
        .filter(|(_, c)| !matches!(c.outcome, CallOutcome::Ok { .. }))
        .map(|(i, c)| describe(i, c))
        .collect();
    pass_unless(
        bad,
        "alle kall fullførte med ok / every call completed ok",
        "ikke alle kall lyktes / not every call succeeded",
    )
}

pub(super) fn no_trap(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .filter(|(_, c)| matches!(c.outcome, CallOutcome::Failure { .. }))
        .map(|(i, c)| describe(i, c))
        .collect();
    pass_unless(
        bad,
        "ingen kall krasjet / no call trapped or hit a limit",
        "et kall krasjet eller nådde en grense / a call trapped or hit a limit",
    )
}

pub(super) fn step_returns_error(e: &Evidence<'_>, step: &usize, code: &str) -> Judgement {
    let s = e.s;
    match s.steps.get(*step).and_then(|st| st.call.as_ref()) {
        Some(c) => match &c.outcome {
            CallOutcome::AdapterError { code: got, .. } if got == code => pass(format!(
                "steg {step} returnerte {code} / step {step} returned {code}"
            )),
            _ => fail(
                format!(
                    "steg {step} skulle returnere adapter-error `{code}` / step {step} should return adapter-error `{code}`"
                ),
                vec![describe(*step, c)],
            ),
        },
        None => error(format!(
            "steg {step} ble ikke kjørt / step {step} did not run"
        )),
    }
}

pub(super) fn retry_after_honoured(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let mut judged = 0;
    let mut bad = Vec::new();
    for (_, c) in calls(s) {
        let xs: Vec<_> = platform_exchanges(c).collect();
        for w in xs.windows(2) {
            let (a, b) = (w[0], w[1]);
            if !matches!(a.status, Some(429 | 503)) {
                continue;
            }
            let Some(secs) = header(&a.response_headers, "retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                continue;
            };
            judged += 1;
            if b.sent_ms < a.received_ms + secs * 1000 {
                bad.push(format!(
                    "{} → {} med Retry-After {secs}: neste forespørsel etter {} ms / next request after {} ms",
                    a.request_line, a.status.unwrap_or(0), b.sent_ms - a.received_ms, b.sent_ms - a.received_ms
                ));
            }
        }
    }
    if judged == 0 {
        error(
            "ingen 429/503 med Retry-After ble fulgt av en ny forespørsel / no 429/503 with Retry-After was followed by another request",
        )
    } else {
        pass_unless(
            bad,
            "Retry-After ble respektert / Retry-After was honoured",
            "adapteren ventet ikke så lenge plattformen ba om / the adapter did not wait as long as the platform asked",
        )
    }
}

pub(super) fn retries_bounded(e: &Evidence<'_>, max: &usize) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .filter(|(_, c)| c.exchanges.len() > *max || c.class == "request-limit")
        .map(|(i, c)| {
            format!(
                "steg {i} `{}`: {} forespørsler (høyst {max}) / {} requests (at most {max})",
                c.call,
                c.exchanges.len(),
                c.exchanges.len()
            )
        })
        .collect();
    pass_unless(
        bad,
        format!("høyst {max} forespørsler per kall / at most {max} requests per call"),
        format!(
            "for mange forespørsler mot plattformen / too many requests to the platform (at most {max})"
        ),
    )
}

pub(super) fn refusals_not_retried(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let mut judged = 0;
    let mut bad = Vec::new();
    for (i, c) in calls(s) {
        let xs: Vec<_> = platform_exchanges(c).collect();
        for (k, x) in xs
            .iter()
            .enumerate()
            .filter(|(_, x)| matches!(x.status, Some(401 | 403 | 404)))
        {
            judged += 1;
            let again = xs[k + 1..]
                .iter()
                .filter(|y| y.request_line == x.request_line)
                .count();
            if again > 0 {
                bad.push(format!(
                    "steg {i}: {} → {} sendt {again} gang(er) til / sent {again} more time(s)",
                    x.request_line,
                    x.status.unwrap_or(0)
                ));
            }
        }
    }
    if judged == 0 {
        error(
            "plattformen avviste ingen forespørsel med 401, 403 eller 404 / the platform refused no request with 401, 403 or 404",
        )
    } else {
        pass_unless(
            bad,
            "avviste forespørsler ble ikke sendt på nytt / refused requests were not sent again",
            "adapteren sendte en avvist forespørsel på nytt / the adapter sent a refused request again",
        )
    }
}

pub(super) fn same_output(e: &Evidence<'_>, a: &usize, b: &usize) -> Judgement {
    let s = e.s;
    let (x, y) = (
        s.steps.get(*a).and_then(|st| st.call.as_ref()),
        s.steps.get(*b).and_then(|st| st.call.as_ref()),
    );
    match (x, y) {
        (Some(x), Some(y)) if output(x).is_none() || output(y).is_none() => error(format!(
            "stegene {a} og {b} ga ikke et resultat å sammenligne / steps {a} and {b} gave no result to compare"
        )),
        (Some(x), Some(y)) if output_text(x) == output_text(y) && x.class == y.class => {
            pass("samme svar på samme spørsmål / the same answer to the same question")
        }
        (Some(x), Some(y)) => fail(
            "to like kall ga ulikt svar / two identical calls gave different answers",
            vec![
                format!("steg {a}: {}", excerpt(&output_text(x))),
                format!("steg {b}: {}", excerpt(&output_text(y))),
            ],
        ),
        _ => error("stegene ble ikke kjørt / the steps did not run"),
    }
}
