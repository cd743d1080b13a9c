//! IAM policy statements normalised from a JSON string, a `jsonencode`
//! call (its `var`/`local` references resolved) or a policy document block,
//! for the S3 and IAM rules.

use super::value::{Module, Val};

/// A policy statement, normalised from JSON, `jsonencode` or a policy document block.
#[derive(Debug, Default)]
pub(super) struct Statement {
    pub(super) allow: bool,
    pub(super) actions: Vec<String>,
    pub(super) resources: Vec<String>,
    pub(super) public_principal: bool,
    pub(super) conditioned: bool,
    pub(super) line: Option<u32>,
}

fn to_json(v: &Val) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Val::Null | Val::Unknown | Val::Ref(_) | Val::Call(..) => J::Null,
        Val::Bool(b) => J::Bool(*b),
        Val::Num(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Val::Str(s) | Val::Tmpl(s) => J::String(s.clone()),
        Val::List(items) => J::Array(items.iter().map(to_json).collect()),
        Val::Obj(o) => J::Object(o.iter().map(|(k, v, _)| (k.clone(), to_json(v))).collect()),
    }
}

fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn statements(m: &Module, v: &Val) -> Vec<Statement> {
    let json = match v {
        Val::Str(s) | Val::Tmpl(s) => serde_json::from_str::<serde_json::Value>(s).ok(),
        Val::Call(f, args) if f == "jsonencode" => {
            args.first().map(|a| to_json(&resolve_deep(m, a, 0)))
        }
        _ => None,
    };
    let Some(json) = json else { return Vec::new() };
    let sts = match json.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
        _ => return Vec::new(),
    };
    sts.iter()
        .map(|st| {
            let principal = st.get("Principal");
            let public_principal = match principal {
                Some(serde_json::Value::String(s)) => s == "*",
                Some(serde_json::Value::Object(o)) => o
                    .values()
                    .any(|v| strings(Some(v)).iter().any(|s| s == "*")),
                _ => false,
            };
            Statement {
                allow: st.get("Effect").and_then(|e| e.as_str()) == Some("Allow"),
                actions: strings(st.get("Action")),
                resources: strings(st.get("Resource")),
                public_principal,
                conditioned: st.get("Condition").is_some(),
                line: None,
            }
        })
        .collect()
}

/// Resolves var/local references inside a `jsonencode` argument.
fn resolve_deep(m: &Module, v: &Val, depth: usize) -> Val {
    if depth > 32 {
        return Val::Unknown;
    }
    match m.eval(v) {
        Val::List(items) => Val::List(
            items
                .iter()
                .map(|i| resolve_deep(m, i, depth + 1))
                .collect(),
        ),
        Val::Obj(o) => Val::Obj(
            o.iter()
                .map(|(k, v, l)| (k.clone(), resolve_deep(m, v, depth + 1), *l))
                .collect(),
        ),
        other => other,
    }
}
