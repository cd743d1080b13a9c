//! What can be read statically about a model: Hugging Face `config.json`,
//! README front matter (YAML), MLflow `MLmodel`, and safetensors headers.
//! Nothing is executed or imported; inputs are size-capped and malformed
//! ones are reported as warnings, never as panics.

use serde_json::Value;

/// Facts for a CycloneDX `modelCard` and the component around it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardInfo {
    pub architecture_family: Option<String>,
    pub model_architecture: Option<String>,
    pub task: Option<String>,
    pub license: Option<String>,
    pub datasets: Vec<String>,
    /// `(type, value, slice)`; value empty when only the metric is named.
    pub metrics: Vec<(String, String, Option<String>)>,
    pub framework: Option<String>,
    pub base_model: Vec<String>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Name/value pairs shown as modelCard properties, in insertion order.
    pub properties: Vec<(String, String)>,
}

impl CardInfo {
    pub fn is_empty(&self) -> bool {
        *self == CardInfo::default()
    }

    /// Fills what `self` lacks from `other` (nearer sources win).
    pub fn merge(&mut self, other: &CardInfo) {
        fn fill(a: &mut Option<String>, b: &Option<String>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        fill(&mut self.architecture_family, &other.architecture_family);
        fill(&mut self.model_architecture, &other.model_architecture);
        fill(&mut self.task, &other.task);
        fill(&mut self.license, &other.license);
        fill(&mut self.framework, &other.framework);
        for d in &other.datasets {
            if !self.datasets.contains(d) {
                self.datasets.push(d.clone());
            }
        }
        for m in &other.metrics {
            if !self.metrics.contains(m) {
                self.metrics.push(m.clone());
            }
        }
        for b in &other.base_model {
            if !self.base_model.contains(b) {
                self.base_model.push(b.clone());
            }
        }
        if self.inputs.is_empty() {
            self.inputs.clone_from(&other.inputs);
        }
        if self.outputs.is_empty() {
            self.outputs.clone_from(&other.outputs);
        }
        for p in &other.properties {
            if !self.properties.iter().any(|(n, _)| *n == p.0) {
                self.properties.push(p.clone());
            }
        }
    }
}

/// Hyper-parameters of a transformers `config.json` worth recording.
const CONFIG_KEYS: &[&str] = &[
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "torch_dtype",
    "n_embd",
    "n_layer",
    "n_head",
    "n_positions",
    "d_model",
    "transformers_version",
];

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A Hugging Face `config.json`; `None` when it is not one (no `model_type`
/// and no `architectures`), so that any other `config.json` is left alone.
pub fn from_hf_config(text: &str) -> Result<Option<CardInfo>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(obj) = v.as_object() else {
        return Ok(None);
    };
    let model_type = obj.get("model_type").and_then(Value::as_str);
    let arch = obj
        .get("architectures")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    if model_type.is_none() && arch.is_none() {
        return Ok(None);
    }
    let mut card = CardInfo {
        architecture_family: model_type.map(str::to_owned),
        model_architecture: arch.map(str::to_owned),
        framework: Some("transformers".into()),
        ..CardInfo::default()
    };
    for key in CONFIG_KEYS {
        if let Some(val) = obj.get(*key).and_then(scalar) {
            card.properties.push(((*key).to_owned(), val));
        }
    }
    Ok(Some(card))
}

/// The YAML front matter of a model card README (`---` ... `---`).
pub fn from_readme(text: &str) -> Result<Option<CardInfo>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok(None);
    };
    // An empty front matter closes on the very next line.
    let end = if rest.starts_with("---") {
        0
    } else {
        rest.find("\n---")
            .ok_or("front matter has no closing '---'")?
    };
    let yaml = &rest[..end];
    if yaml.trim().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_yaml_ng::from_str(yaml).map_err(|e| format!("front matter: {e}"))?;
    let Some(obj) = v.as_object() else {
        return Ok(None);
    };
    let strings = |key: &str| -> Vec<String> {
        match obj.get(key) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        }
    };
    let mut card = CardInfo {
        license: obj
            .get("license")
            .and_then(scalar)
            .or_else(|| obj.get("license_name").and_then(scalar)),
        task: obj.get("pipeline_tag").and_then(scalar),
        framework: obj.get("library_name").and_then(scalar),
        datasets: strings("datasets"),
        base_model: strings("base_model"),
        ..CardInfo::default()
    };
    // `model-index` results carry values; a bare `metrics:` list only names.
    if let Some(index) = obj.get("model-index").and_then(Value::as_array) {
        for entry in index {
            for result in entry
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let slice = result
                    .get("dataset")
                    .and_then(|d| d.get("name").or_else(|| d.get("type")))
                    .and_then(scalar);
                if card.task.is_none() {
                    card.task = result
                        .get("task")
                        .and_then(|t| t.get("type"))
                        .and_then(scalar);
                }
                for m in result
                    .get("metrics")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(kind) = m.get("type").or_else(|| m.get("name")).and_then(scalar)
                    else {
                        continue;
                    };
                    let value = m.get("value").and_then(scalar).unwrap_or_default();
                    card.metrics.push((kind, value, slice.clone()));
                }
            }
        }
    }
    for m in strings("metrics") {
        if !card.metrics.iter().any(|(k, _, _)| *k == m) {
            card.metrics.push((m, String::new(), None));
        }
    }
    for lang in strings("language") {
        card.properties.push(("language".into(), lang));
    }
    for tag in strings("tags") {
        card.properties.push(("tag".into(), tag));
    }
    Ok(Some(card))
}

/// MLflow flavor names → framework names.
fn mlflow_framework(flavor: &str) -> Option<&'static str> {
    Some(match flavor {
        "sklearn" => "scikit-learn",
        "pytorch" => "pytorch",
        "tensorflow" => "tensorflow",
        "keras" => "keras",
        "transformers" => "transformers",
        "xgboost" => "xgboost",
        "lightgbm" => "lightgbm",
        "onnx" => "onnx",
        "catboost" => "catboost",
        "statsmodels" => "statsmodels",
        "spacy" => "spacy",
        "prophet" => "prophet",
        _ => return None,
    })
}

/// An MLflow `MLmodel` file (YAML). Returns the card and the model files its
/// flavors name (relative to the MLmodel's directory).
pub fn from_mlmodel(text: &str) -> Result<(CardInfo, Vec<String>), String> {
    let v: Value = serde_yaml_ng::from_str(text).map_err(|e| format!("MLmodel: {e}"))?;
    let obj = v.as_object().ok_or("MLmodel is not a mapping")?;
    let mut card = CardInfo::default();
    let mut files = Vec::new();
    if let Some(flavors) = obj.get("flavors").and_then(Value::as_object) {
        let mut names: Vec<&String> = flavors.keys().collect();
        names.sort();
        for name in names {
            if card.framework.is_none() {
                card.framework = mlflow_framework(name).map(str::to_owned);
            }
            card.properties.push(("mlflow:flavor".into(), name.clone()));
            let f = &flavors[name.as_str()];
            for key in ["pickled_model", "model_data", "data"] {
                if let Some(p) = f.get(key).and_then(Value::as_str) {
                    files.push(p.to_owned());
                }
            }
        }
    }
    for key in ["run_id", "model_uuid", "mlflow_version"] {
        if let Some(val) = obj.get(key).and_then(scalar) {
            card.properties.push((format!("mlflow:{key}"), val));
        }
    }
    if let Some(sig) = obj.get("signature") {
        if let Some(i) = sig.get("inputs").and_then(scalar) {
            card.inputs.push(i);
        }
        if let Some(o) = sig.get("outputs").and_then(scalar) {
            card.outputs.push(o);
        }
    }
    Ok((card, files))
}

/// Parameter count and dtypes from a safetensors header (the JSON after the
/// 8-byte length); `None` when the header is not readable.
pub fn safetensors_summary(bytes: &[u8]) -> Option<(u128, Vec<String>)> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let end = 8usize.checked_add(usize::try_from(len).ok()?)?;
    let header: Value = serde_json::from_slice(bytes.get(8..end)?).ok()?;
    let mut params: u128 = 0;
    let mut dtypes: Vec<String> = Vec::new();
    for (name, t) in header.as_object()? {
        if name == "__metadata__" {
            continue;
        }
        let shape = t.get("shape")?.as_array()?;
        let mut n: u128 = 1;
        for d in shape {
            n = n.checked_mul(u128::from(d.as_u64()?))?;
        }
        params = params.checked_add(n)?;
        if let Some(dt) = t.get("dtype").and_then(Value::as_str)
            && !dtypes.iter().any(|d| d == dt)
        {
            dtypes.push(dt.to_owned());
        }
    }
    dtypes.sort();
    Some((params, dtypes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_config_gives_architecture_and_params() {
        let c = from_hf_config(r#"{"architectures":["BertForMaskedLM"],"model_type":"bert","hidden_size":768,"foo":[1]}"#)
            .unwrap()
            .unwrap();
        assert_eq!(c.model_architecture.as_deref(), Some("BertForMaskedLM"));
        assert_eq!(c.architecture_family.as_deref(), Some("bert"));
        assert_eq!(c.properties, vec![("hidden_size".into(), "768".into())]);
        assert_eq!(from_hf_config(r#"{"lr":0.1}"#).unwrap(), None);
        assert!(from_hf_config("{").is_err());
    }

    #[test]
    fn readme_front_matter() {
        let text = "---\nlicense: apache-2.0\ndatasets:\n- imdb\npipeline_tag: text-classification\nmetrics: [accuracy, f1]\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n    dataset: {name: IMDB, type: imdb}\n    metrics:\n    - {type: accuracy, value: 0.93}\n---\n# Model\n";
        let c = from_readme(text).unwrap().unwrap();
        assert_eq!(c.license.as_deref(), Some("apache-2.0"));
        assert_eq!(c.datasets, vec!["imdb"]);
        assert_eq!(c.task.as_deref(), Some("text-classification"));
        assert_eq!(
            c.metrics,
            vec![
                ("accuracy".into(), "0.93".into(), Some("IMDB".into())),
                ("f1".into(), String::new(), None)
            ]
        );
        assert_eq!(from_readme("# no front matter").unwrap(), None);
        assert_eq!(from_readme("---\n---\n# empty").unwrap(), None);
        assert!(from_readme("---\nx: [\n---\n").is_err());
    }

    #[test]
    fn mlmodel_flavors() {
        let text = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n    sklearn_version: 1.3.0\nrun_id: abc\nsignature:\n  inputs: '[{\"type\": \"double\"}]'\n  outputs: '[{\"type\": \"long\"}]'\n";
        let (c, files) = from_mlmodel(text).unwrap();
        assert_eq!(c.framework.as_deref(), Some("scikit-learn"));
        assert_eq!(files, vec!["model.pkl"]);
        assert_eq!(c.inputs.len(), 1);
        assert!(
            c.properties
                .contains(&("mlflow:run_id".into(), "abc".into()))
        );
    }

    #[test]
    fn safetensors_parameters() {
        let header = br#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]},"__metadata__":{"x":"y"}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        assert_eq!(
            safetensors_summary(&bytes),
            Some((10, vec!["F16".to_string(), "F32".to_string()]))
        );
        assert_eq!(safetensors_summary(&[0xff; 8]), None);
    }
}
