//! "Did you mean ...?": the closest known name to a misspelt one.

/// How similar two names must be (normalized Damerau-Levenshtein, case-insensitive) for
/// one to be suggested for the other.
const THRESHOLD: f64 = 0.6;

/// The candidate closest to `name`, if one is close enough. Ties go to the candidate
/// that sorts first, so suggestions do not depend on declaration order.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let score = if cand.to_lowercase() == lower {
            1.0
        } else {
            strsim::normalized_damerau_levenshtein(&lower, &cand.to_lowercase())
        };
        if score < THRESHOLD {
            continue;
        }
        best = match best {
            Some((s, c)) if s > score || (s == score && c <= cand) => Some((s, c)),
            _ => Some((score, cand)),
        };
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate, if any.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_case_slips() {
        let types = ["VIEW", "ADD_TO_CART", "PURCHASE"];
        assert_eq!(closest("PURCHSE", types), Some("PURCHASE"));
        assert_eq!(closest("PRUCHASE", types), Some("PURCHASE"));
        assert_eq!(closest("view", types), Some("VIEW"));
        assert_eq!(closest("SEARCH", types), None);
        assert_eq!(closest("prize", ["price", "product_id"]), Some("price"));
    }
}
