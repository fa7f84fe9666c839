//! Security: the token on every request and only in the header, no foreign links or egress, emergency access only with the context's reason.

use sandkasse_sandbox::Disposition;
use sandkasse_sandbox::types::Purpose;

use super::{
    Evidence, Judgement, REDACTED, calls, error, header, output_text, pass_unless,
    platform_exchanges,
};

pub(super) fn token_on_every_request(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .flat_map(|(_, c)| platform_exchanges(c))
        .filter(|x| {
            !x.request_line.contains("/auth/token") && !x.request_line.ends_with("/metadata")
        })
        .filter(|x| {
            header(&x.request_headers, "authorization").is_none_or(|v| !v.starts_with("Bearer"))
        })
        .map(|x| format!("uten token / without token: {}", x.request_line))
        .collect();
    pass_unless(
        bad,
        "token på hver forespørsel / a bearer token on every request",
        "forespørsler uten token / requests without the bearer token",
    )
}

pub(super) fn token_only_in_header(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let tokens: Vec<&str> = s
        .contexts
        .values()
        .map(|c| c.access_token.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let mut bad = Vec::new();
    for (i, c) in calls(s) {
        // The sandbox redacts the token wherever the component put it; outside the
        // Authorization header the redaction itself is the evidence.
        for x in &c.exchanges {
            if x.request_line.contains(REDACTED) {
                bad.push(format!(
                    "steg {i}: token i URL-en / token in the URL: {}",
                    x.request_line
                ));
            }
            if x.request_body
                .as_deref()
                .is_some_and(|b| b.contains(REDACTED))
            {
                bad.push(format!(
                    "steg {i}: token i forespørselens innhold / token in the request body: {}",
                    x.request_line
                ));
            }
            for (name, value) in &x.request_headers {
                if !name.eq_ignore_ascii_case("authorization") && value.contains(REDACTED) {
                    bad.push(format!(
                        "steg {i}: token i headeren / token in the header `{name}`: {}",
                        x.request_line
                    ));
                }
            }
        }
        if c.logs.iter().any(|l| l.message.contains(REDACTED))
            || c.stdout.contains(REDACTED)
            || c.stderr.contains(REDACTED)
        {
            bad.push(format!("steg {i}: token i loggen / token in the log"));
        }
        if tokens.iter().any(|t| output_text(c).contains(t)) {
            bad.push(format!(
                "steg {i}: token i resultatet / token in the result of `{}`",
                c.call
            ));
        }
    }
    pass_unless(
        bad,
        "token bare i Authorization-headeren / the token only in the Authorization header",
        "tokenet lekker utenfor Authorization-headeren / the token leaks outside the Authorization header",
    )
}

pub(super) fn foreign_links_not_followed(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    // A request to a host the platform pointed to in the same step (a link, a
    // `fullUrl`, a `Location`): a link followed. Other egress is SIK-02's.
    let mut bad = Vec::new();
    for (i, st) in s.steps.iter().enumerate() {
        let Some(c) = &st.call else { continue };
        for x in &c.exchanges {
            if let Disposition::RefusedEgress { authority } = &x.disposition
                && st.elsewhere.contains(&authority.to_ascii_lowercase())
            {
                let token = header(&x.request_headers, "authorization").is_some();
                bad.push(format!(
                    "steg {i}: {}{}",
                    x.request_line,
                    if token {
                        " (med token / with the token)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    if s.steps.iter().all(|st| st.elsewhere.is_empty()) {
        error(
            "plattformen sendte ingen lenke eller omdirigering til en annen vert / the platform sent no link or redirect to another host",
        )
    } else {
        pass_unless(
            bad,
            "lenker og omdirigeringer til andre verter ble ikke fulgt / links and redirects to other hosts were not followed",
            "adapteren fulgte en lenke eller omdirigering til en annen vert enn plattformen / the adapter followed a link or redirect to a host other than the platform",
        )
    }
}

pub(super) fn no_egress(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .flat_map(|(_, c)| c.exchanges.iter())
        .filter(|x| matches!(x.disposition, Disposition::RefusedEgress { .. }))
        .map(|x| format!("stoppet / refused: {}", x.request_line))
        .collect();
    pass_unless(
        bad,
        "ingen trafikk utenom plattformen / no traffic but to the platform",
        "adapteren prøvde å sende data til en annen vert / the adapter tried to send data to another host",
    )
}

pub(super) fn emergency_only_with_reason(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let emergency_context = s
        .contexts
        .values()
        .any(|c| matches!(c.purpose, Purpose::Emergency(_)));
    let mut bad: Vec<String> = calls(s)
        .flat_map(|(_, c)| platform_exchanges(c))
        .filter(|x| x.request_line.contains("/auth/token"))
        .map(|x| {
            format!(
                "adapteren hentet selv et token / the adapter obtained a token itself: {}",
                x.request_line
            )
        })
        .collect();
    if !emergency_context {
        for a in &s.audit {
            let etreat = a["purposeOfEvent"].to_string().contains("ETREAT")
                || a.to_string().contains("\"ETREAT\"");
            if etreat {
                bad.push("nødtilgang brukt uten at konteksten ba om det / emergency access used without the context asking for it".into());
                break;
            }
        }
    }
    pass_unless(
        bad,
        "nødtilgang brukes bare slik konteksten sier / emergency access only as the context says",
        "nødtilgang ble brukt uten grunnlag i konteksten / emergency access was used without the context's reason",
    )
}
