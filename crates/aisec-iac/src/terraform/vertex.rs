//! Google Cloud Vertex AI: Workbench and user-managed notebook instances,
//! and Vertex AI resources without customer-managed keys.

use aisec_core::{FileInput, Finding, Severity};

use super::value::Val;
use super::{Resource, missing};
use crate::rules;

pub(super) fn check(r: &Resource<'_>, out: &mut Vec<Finding>) {
    let Resource {
        file,
        module: m,
        ty,
        body,
        line,
        ref addr,
        ..
    } = *r;
    let s = |k: &str| r.get(k);
    let set = |k: &str| r.set(k);
    match ty {
        "google_workbench_instance" => {
            let gce = body.blocks_named("gce_setup");
            let g = gce.first();
            let public = g.and_then(|g| m.get(g, "disable_public_ip"));
            if public.as_ref().and_then(|(v, _)| v.truthy()) != Some(true) {
                let l = public.map_or(line, |(_, l)| l);
                out.push(missing(file, &rules::ML_COMPUTE_PUBLIC, l, format!("{addr} does not set gce_setup.disable_public_ip = true: the instance gets a public IP"), "disable_public_ip != true"));
            }
            let meta = g.and_then(|g| m.get(g, "metadata"));
            check_disable_root(file, addr, meta, line, out);
        }
        "google_notebooks_instance" => {
            let public = s("no_public_ip");
            if public.as_ref().and_then(|(v, _)| v.truthy()) != Some(true) {
                let l = public.map_or(line, |(_, l)| l);
                out.push(missing(
                    file,
                    &rules::ML_COMPUTE_PUBLIC,
                    l,
                    format!(
                        "{addr} does not set no_public_ip = true: the instance gets a public IP"
                    ),
                    "no_public_ip != true",
                ));
            }
            check_disable_root(file, addr, s("metadata"), line, out);
            if !set("kms_key") {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no kms_key: its disks use Google-managed keys"),
                    "kms_key unset",
                ));
            }
        }
        "google_vertex_ai_dataset"
        | "google_vertex_ai_endpoint"
        | "google_vertex_ai_featurestore"
        | "google_vertex_ai_metadata_store"
        | "google_vertex_ai_index"
        | "google_vertex_ai_tensorboard" => {
            let has_key = body
                .blocks_named("encryption_spec")
                .iter()
                .any(|e| e.attr("kms_key_name").is_some());
            if !has_key {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no encryption_spec.kms_key_name: Google-managed keys only"),
                    "encryption_spec unset",
                ));
            }
            if ty == "google_vertex_ai_endpoint"
                && !set("network")
                && !set("private_service_connect_config")
            {
                out.push(missing(file, &rules::ML_WORKSPACE_PUBLIC, line, format!("{addr} has neither a private `network` nor Private Service Connect: it is served on a public endpoint"), "network unset").severity(Severity::Medium));
            }
        }
        _ => {}
    }
}

fn check_disable_root(
    file: &FileInput<'_>,
    addr: &str,
    meta: Option<(Val, u32)>,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let disabled = match &meta {
        Some((Val::Obj(o), _)) => o
            .iter()
            .any(|(k, v, _)| k == "notebook-disable-root" && v.truthy() == Some(true)),
        _ => false,
    };
    if !disabled {
        let l = meta.map_or(line, |(_, l)| l);
        out.push(missing(file, &rules::ML_NOTEBOOK_ROOT, l, format!("{addr} does not set metadata notebook-disable-root = \"true\": notebook users can become root"), "notebook-disable-root unset"));
    }
}
