//! MLflow `MLmodel` files: which flavors load the model by running code.

use serde_yaml_ng::Value;

#[derive(Debug, PartialEq, Eq)]
pub enum MlflowIssue {
    /// A pyfunc loader module outside MLflow: imported and called on load.
    CustomLoader(String),
    /// Code directories put on `sys.path` and imported on load.
    CodePaths(Vec<String>),
    /// (flavor, how): the model is unpickled on load.
    Pickled(String, String),
}

/// MLflow's own pyfunc loaders live under `mlflow.`; anything else is code
/// the model brings.
fn is_mlflow_module(m: &str) -> bool {
    m == "mlflow" || m.starts_with("mlflow.")
}

pub fn analyse(text: &str) -> Result<Vec<MlflowIssue>, String> {
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    let flavors = doc
        .get("flavors")
        .and_then(Value::as_mapping)
        .ok_or("no `flavors` mapping")?;
    let mut out = Vec::new();
    for (name, flavor) in flavors {
        let name = name.as_str().unwrap_or("?");
        let get = |k: &str| flavor.get(k).and_then(Value::as_str);
        if name == "python_function" {
            if let Some(m) = get("loader_module").filter(|m| !is_mlflow_module(m)) {
                out.push(MlflowIssue::CustomLoader(m.to_owned()));
            }
            let code: Vec<String> = match flavor.get("code") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Sequence(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            if !code.is_empty() {
                out.push(MlflowIssue::CodePaths(code));
            }
            if let Some(p) = get("python_model") {
                out.push(MlflowIssue::Pickled(
                    name.to_owned(),
                    format!("python_model {p} (cloudpickle)"),
                ));
            }
        }
        if let Some(fmt) = get("serialization_format").filter(|f| f.contains("pickle")) {
            let file = get("pickled_model").unwrap_or("?");
            out.push(MlflowIssue::Pickled(
                name.to_owned(),
                format!("{file} ({fmt})"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_loaders_code_and_pickles() {
        let text = "
artifact_path: model
flavors:
  python_function:
    loader_module: my_pkg.loader
    code: code
    python_model: python_model.pkl
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
mlflow_version: 2.9.2
";
        let issues = analyse(text).unwrap();
        assert!(issues.contains(&MlflowIssue::CustomLoader("my_pkg.loader".into())));
        assert!(issues.contains(&MlflowIssue::CodePaths(vec!["code".into()])));
        assert_eq!(
            issues
                .iter()
                .filter(|i| matches!(i, MlflowIssue::Pickled(..)))
                .count(),
            2
        );
        let clean = "flavors:\n  python_function:\n    loader_module: mlflow.onnx\n  onnx:\n    data: model.onnx\n";
        assert!(analyse(clean).unwrap().is_empty());
        assert!(analyse("flavors: [").is_err());
    }
}
