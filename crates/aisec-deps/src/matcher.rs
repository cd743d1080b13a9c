//! Matching a package version against stored advisories, per the OSV
//! specification's evaluation of `affected`: explicit `versions`, or
//! `ECOSYSTEM`/`SEMVER` ranges whose events are sorted and replayed.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use aisec_core::Severity;

use crate::ecosystem::{Ecosystem, SemVer, VersionScheme};
use crate::osv::{Event, RangeKind, StoredAdvisory, StoredRange};

/// One vulnerability affecting one package version: advisories that are
/// aliases of each other (a PYSEC and a GHSA record of one CVE) merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Vulnerability {
    /// The id shown first: the smallest id among the merged records.
    pub id: String,
    /// Every other id the vulnerability is known by (records and aliases),
    /// sorted: `CVE-...`, `GHSA-...`, `PYSEC-...`.
    pub aliases: Vec<String>,
    pub summary: String,
    /// From the highest CVSS score among the records, else their severity
    /// label; `None` when no record rates it.
    pub severity: Option<Severity>,
    pub cvss: Option<(String, f64)>,
    /// The lowest version that fixes every merged record, when all have one.
    pub fixed: Option<String>,
    pub malicious: bool,
}

impl Vulnerability {
    /// All ids, the shown one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// The vulnerabilities among `advisories` (all of one package) that affect
/// `version`, merged by alias, sorted by id.
pub fn vulnerabilities(
    eco: &Ecosystem,
    version: &str,
    advisories: &[StoredAdvisory],
) -> Vec<Vulnerability> {
    let canonical = eco
        .scheme
        .canonical(version)
        .unwrap_or_else(|| version.to_owned());
    let hits: Vec<(&StoredAdvisory, Fix)> = advisories
        .iter()
        .filter_map(|a| affects(eco, a, version, &canonical).map(|fix| (a, fix)))
        .collect();
    // Union of records that share an id or alias. Quadratic, but a package
    // version rarely matches more than a few dozen records.
    let mut group: Vec<usize> = (0..hits.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    let ids = |a: &StoredAdvisory| -> BTreeSet<String> {
        std::iter::once(&a.id).chain(&a.aliases).cloned().collect()
    };
    let id_sets: Vec<BTreeSet<String>> = hits.iter().map(|(a, _)| ids(a)).collect();
    for i in 0..hits.len() {
        for j in i + 1..hits.len() {
            if !id_sets[i].is_disjoint(&id_sets[j]) {
                let (ri, rj) = (root(&mut group, i), root(&mut group, j));
                group[rj] = ri;
            }
        }
    }
    let mut out = Vec::new();
    for r in 0..hits.len() {
        if root(&mut group, r) != r {
            continue;
        }
        let members: Vec<usize> = (0..hits.len())
            .filter(|&i| root(&mut group, i) == r)
            .collect();
        let record_ids: BTreeSet<&str> = members.iter().map(|&i| hits[i].0.id.as_str()).collect();
        let id = record_ids
            .iter()
            .next()
            .expect("a group has a member")
            .to_string();
        let aliases: Vec<String> = members
            .iter()
            .flat_map(|&i| id_sets[i].iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|a| *a != id)
            .collect();
        let rated = members
            .iter()
            .filter_map(|&i| hits[i].0.score.map(|s| (i, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let cvss = rated.and_then(|(i, s)| hits[i].0.cvss.clone().map(|v| (v, s)));
        let severity = members.iter().filter_map(|&i| hits[i].0.severity()).max();
        let summary = members
            .iter()
            .map(|&i| hits[i].0)
            .find(|a| a.id == id)
            .map(|a| a.summary.clone())
            .unwrap_or_default();
        let malicious = members.iter().any(|&i| hits[i].0.is_malicious());
        // Every record must be fixed: the highest of their fixes. One record
        // without a fix means no published version fixes the vulnerability.
        let mut fixed: Option<String> = None;
        let mut all_fixed = true;
        for &i in &members {
            match &hits[i].1 {
                Fix::At(v) => {
                    let higher = fixed
                        .as_deref()
                        .is_none_or(|f| eco.scheme.compare(v, f) == Some(Ordering::Greater));
                    if higher {
                        fixed = Some(v.clone());
                    }
                }
                Fix::None => all_fixed = false,
            }
        }
        out.push(Vulnerability {
            id,
            aliases,
            summary,
            severity,
            cvss,
            fixed: fixed.filter(|_| all_fixed),
            malicious,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Fix {
    At(String),
    None,
}

/// `Some(fix)` when `advisory` affects `version`. The `versions` list and the
/// ranges are alternatives (OSV: affected if either says so); the fix comes
/// from the ranges, since a version list names no fix.
fn affects(
    eco: &Ecosystem,
    advisory: &StoredAdvisory,
    version: &str,
    canonical: &str,
) -> Option<Fix> {
    let listed = advisory
        .versions
        .binary_search_by(|v| v.as_str().cmp(canonical))
        .is_ok();
    let mut affected = listed;
    let mut fix: Option<String> = None;
    for range in &advisory.ranges {
        let scheme: &dyn VersionScheme = match range.kind {
            RangeKind::Ecosystem => eco.scheme,
            RangeKind::SemVer => &SemVer,
        };
        if let Some(range_fix) = in_range(scheme, range, version) {
            affected = true;
            if let Some(f) = range_fix {
                let lower = fix
                    .as_deref()
                    .is_none_or(|cur| scheme.compare(&f, cur) == Some(Ordering::Less));
                if lower {
                    fix = Some(f);
                }
            }
        }
    }
    if !affected {
        return None;
    }
    if listed && fix.is_none() {
        // Listed but in no range: the first `fixed` above the version in any
        // range is still the best advice there is.
        fix = advisory
            .ranges
            .iter()
            .flat_map(|r| &r.events)
            .filter_map(|e| match e {
                Event::Fixed(f) if eco.scheme.compare(f, version) == Some(Ordering::Greater) => {
                    Some(f.clone())
                }
                _ => None,
            })
            .min_by(|a, b| eco.scheme.compare(a, b).unwrap_or(Ordering::Equal));
    }
    Some(fix.map_or(Fix::None, Fix::At))
}

/// `Some(fix)` when `version` lies in `range`, `fix` being the `fixed` event
/// that closes the interval it lies in (if any). Events whose version the
/// scheme cannot parse are ignored, as OSV's reference implementation does.
fn in_range(
    scheme: &dyn VersionScheme,
    range: &StoredRange,
    version: &str,
) -> Option<Option<String>> {
    // The version itself must parse, or no ordering question has an answer.
    scheme.compare(version, version)?;
    let is_zero = |e: &Event| matches!(e, Event::Introduced(v) if v == "0");
    let mut events: Vec<&Event> = range
        .events
        .iter()
        .filter(|e| is_zero(e) || scheme.compare(e.version(), e.version()).is_some())
        .collect();
    // "0" sorts first; equal versions keep their order, so an introduced
    // before a fixed at the same version opens and closes an empty range.
    events.sort_by(|a, b| match (is_zero(a), is_zero(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => scheme
            .compare(a.version(), b.version())
            .unwrap_or(Ordering::Equal),
    });
    let cmp = |v: &str| scheme.compare(version, v).unwrap_or(Ordering::Less);
    let mut affected = false;
    let mut fix = None;
    for e in &events {
        match e {
            Event::Introduced(v) => {
                if is_zero(e) || cmp(v) != Ordering::Less {
                    affected = true;
                    fix = None;
                }
            }
            Event::Fixed(v) => {
                if cmp(v) != Ordering::Less {
                    affected = false;
                } else if affected && fix.is_none() {
                    fix = Some(v.clone());
                }
            }
            Event::LastAffected(v) => {
                if cmp(v) == Ordering::Greater {
                    affected = false;
                }
            }
            Event::Limit(v) => {
                if cmp(v) != Ordering::Less {
                    affected = false;
                }
            }
        }
    }
    affected.then_some(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::PYPI;

    fn adv(id: &str, aliases: &[&str], events: Vec<Event>, versions: &[&str]) -> StoredAdvisory {
        StoredAdvisory {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            summary: format!("summary of {id}"),
            published: None,
            modified: String::new(),
            cvss: None,
            score: None,
            severity_label: None,
            ranges: if events.is_empty() {
                vec![]
            } else {
                vec![StoredRange {
                    kind: RangeKind::Ecosystem,
                    events,
                }]
            },
            versions: crate::ecosystem::canonical_versions(
                PYPI.scheme,
                &versions.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            ),
        }
    }
    use Event::*;
    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn ids(version: &str, advs: &[StoredAdvisory]) -> Vec<(String, Option<String>)> {
        vulnerabilities(&PYPI, version, advs)
            .into_iter()
            .map(|v| (v.id, v.fixed))
            .collect()
    }

    #[test]
    fn ranges_with_several_intervals() {
        let a = adv(
            "A",
            &[],
            vec![
                Introduced(s("2.0")),
                Fixed(s("2.3.1")),
                Introduced(s("0")),
                Fixed(s("1.9.5")),
            ],
            &[],
        );
        let one = |v| ids(v, std::slice::from_ref(&a));
        assert_eq!(one("1.0"), vec![(s("A"), Some(s("1.9.5")))]);
        assert_eq!(one("1.9.5"), vec![]);
        assert_eq!(one("2.0.0"), vec![(s("A"), Some(s("2.3.1")))]);
        assert_eq!(one("2.3.1"), vec![]);
        assert_eq!(one("2.0rc1"), vec![]);
    }

    #[test]
    fn last_affected_limit_and_lists() {
        let a = adv(
            "A",
            &[],
            vec![Introduced(s("1.0")), LastAffected(s("1.4"))],
            &[],
        );
        assert_eq!(ids("1.4", std::slice::from_ref(&a)), vec![(s("A"), None)]);
        assert_eq!(ids("1.4.1", std::slice::from_ref(&a)), vec![]);
        let b = adv("B", &[], vec![Introduced(s("0")), Limit(s("3.0"))], &[]);
        assert_eq!(ids("2.9", std::slice::from_ref(&b)), vec![(s("B"), None)]);
        assert_eq!(ids("3.0", std::slice::from_ref(&b)), vec![]);
        let c = adv("C", &[], vec![], &["0.5", "0.6.0"]);
        assert_eq!(ids("0.6", std::slice::from_ref(&c)), vec![(s("C"), None)]);
        assert_eq!(ids("0.7", std::slice::from_ref(&c)), vec![]);
        assert_eq!(ids("garbage", &[a, b, c]), vec![]);
    }

    #[test]
    fn aliases_merge_into_one_vulnerability() {
        let advs = [
            adv(
                "PYSEC-1",
                &["CVE-1", "GHSA-x"],
                vec![Introduced(s("0")), Fixed(s("2.0"))],
                &[],
            ),
            adv(
                "GHSA-x",
                &["CVE-1"],
                vec![Introduced(s("0")), Fixed(s("2.1"))],
                &[],
            ),
            adv("PYSEC-2", &["CVE-2"], vec![Introduced(s("0"))], &[]),
        ];
        let v = vulnerabilities(&PYPI, "1.0", &advs);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].id, "GHSA-x");
        assert_eq!(v[0].aliases, vec!["CVE-1", "PYSEC-1"]);
        assert_eq!(v[0].fixed.as_deref(), Some("2.1"));
        assert_eq!(v[1].id, "PYSEC-2");
        assert_eq!(v[1].fixed, None);
    }

    #[test]
    fn semver_ranges_use_semver() {
        let mut a = adv(
            "S",
            &[],
            vec![Introduced(s("1.0.0")), Fixed(s("1.2.0"))],
            &[],
        );
        a.ranges[0].kind = RangeKind::SemVer;
        assert_eq!(
            ids("1.1.9", std::slice::from_ref(&a)),
            vec![(s("S"), Some(s("1.2.0")))]
        );
        assert_eq!(ids("1.2.0", std::slice::from_ref(&a)), vec![]);
    }
}
