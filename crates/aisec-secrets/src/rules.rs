//! The rule table of the secrets scanner. Each explanation is what
//! `aisec explain AISEC-SEC-NNN` prints.

use aisec_core::{Reference, Severity, refs};

/// Every provider rule's credential kind has the same references.
const PROVIDER_REFS: &[Reference] = &[refs::CWE_798, refs::CWE_312, refs::OWASP_LLM02];

/// The explanation of a provider rule: what it finds, why it matters and how
/// to revoke the credential, between paragraphs every provider rule shares
/// (the evidence shown, rotation, history, the allowlist comment). It builds
/// the `explanation` field only; the rules themselves are declared with
/// `aisec_core::rules!` like every other family's.
macro_rules! provider_explanation {
    ($what:literal, $why:literal, $fix:literal $(,)?) => {
        concat!(
            "## What it finds\n",
            $what,
            "\n\nThe evidence shows a short prefix and a SHA-256 prefix of the secret, never the secret itself.\n\n",
            "## Why it matters\n",
            $why,
            " Anything committed stays in the history of every clone, and notebooks and model repositories are shared widely.\n\n",
            "## Remediation\n",
            "Revoke the credential first (rotation, not deletion, is the fix: it has been exposed). ",
            $fix,
            " Then load secrets from the environment or a secret manager, and remove the value from history (`git filter-repo`) if the repository is shared. ",
            "Mark a deliberate test value with a `pragma: allowlist secret` or `aisec:ignore` comment on its line."
        )
    };
}

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static OPENAI = Rule {
    id: "AISEC-SEC-001",
    name: "openai-api-key",
    summary: "OpenAI API key",
    default_severity: Severity::Critical,
    explanation: provider_explanation!(
        "OpenAI API keys: project (`sk-proj-`), service-account (`sk-svcacct-`), admin (`sk-admin-`) and legacy user keys, recognised by their prefix and the `T3BlbkFJ` marker OpenAI embeds in them.",
        "The key bills your organisation and reads whatever the project can: files, fine-tunes, assistants, batch outputs.",
        "Revoke it at the OpenAI dashboard (API keys).",
    ),
    references: PROVIDER_REFS,
};

pub static ANTHROPIC = Rule {
    id: "AISEC-SEC-002",
    name: "anthropic-api-key",
    summary: "Anthropic API key",
    default_severity: Severity::Critical,
    explanation: provider_explanation!(
        "Anthropic API and admin keys (`sk-ant-api03-...`, `sk-ant-admin01-...`).",
        "The key bills your organisation; an admin key manages its members and keys.",
        "Revoke it in the Anthropic console (API keys).",
    ),
    references: PROVIDER_REFS,
};

pub static HUGGINGFACE = Rule {
    id: "AISEC-SEC-003",
    name: "huggingface-token",
    summary: "Hugging Face access token",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Hugging Face user access tokens (`hf_` and 34 letters) where a token starts: after a quote, `=`, a blank or at the start of a line.",
        "A write token lets anyone push to your models and datasets: replace weights with a pickle that runs code on everyone who loads them. A read token exposes private and gated repositories.",
        "Invalidate it under Settings, Access Tokens, and prefer fine-grained tokens scoped to single repositories.",
    ),
    references: PROVIDER_REFS,
};

pub static COHERE = Rule {
    id: "AISEC-SEC-004",
    name: "cohere-api-key",
    summary: "Cohere API key",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "40-character Cohere API keys assigned to a name or passed next to the word `cohere` (`CO_API_KEY`, `cohere.Client(...)`): Cohere keys have no prefix, so the context is part of the match.",
        "The key bills your account and reads your fine-tuned models and datasets.",
        "Delete it in the Cohere dashboard (API keys).",
    ),
    references: PROVIDER_REFS,
};

pub static REPLICATE = Rule {
    id: "AISEC-SEC-005",
    name: "replicate-api-token",
    summary: "Replicate API token",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Replicate API tokens (`r8_` and 37 characters) after a quote or `=`.",
        "The token runs models on your bill and reads your private models and predictions.",
        "Disable it in the Replicate account settings (API tokens).",
    ),
    references: PROVIDER_REFS,
};

pub static MISTRAL = Rule {
    id: "AISEC-SEC-006",
    name: "mistral-api-key",
    summary: "Mistral AI API key",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "32-character Mistral API keys next to the word `mistral` (`MISTRAL_API_KEY = ...`, `Mistral(api_key=...)`); the keys have no prefix of their own.",
        "The key bills your workspace and reads its fine-tunes, files and agents.",
        "Revoke it in La Plateforme (API keys).",
    ),
    references: PROVIDER_REFS,
};

pub static GROQ = Rule {
    id: "AISEC-SEC-007",
    name: "groq-api-key",
    summary: "Groq API key",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Groq API keys (`gsk_` and 52 characters).",
        "The key runs inference on your account and quota.",
        "Delete it in the Groq console (API keys).",
    ),
    references: PROVIDER_REFS,
};

pub static GOOGLE = Rule {
    id: "AISEC-SEC-008",
    name: "google-api-key",
    summary: "Google API key (Gemini, Maps, Cloud) or OAuth client secret",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Google API keys (`AIza` and 35 characters), used by Gemini / AI Studio and most Google APIs, and OAuth client secrets (`GOCSPX-`).",
        "A Gemini key bills your project and reads uploaded files and tuned models; unrestricted keys work for every API the project has enabled.",
        "Delete or regenerate it in Google Cloud console (APIs and services, Credentials) or AI Studio, and add API and referrer restrictions to its replacement.",
    ),
    references: PROVIDER_REFS,
};

pub static AZURE_OPENAI = Rule {
    id: "AISEC-SEC-009",
    name: "azure-openai-key",
    summary: "Azure OpenAI / Azure AI services key",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Azure OpenAI and Azure AI services keys (32 hexadecimal characters, or the newer 84-character form) assigned next to the word `azure` (`AZURE_OPENAI_API_KEY`, `AzureOpenAI(api_key=...)`).",
        "The key calls every deployment of the resource on your subscription, with no user identity attached.",
        "Regenerate the key in the Azure portal (resource, Keys and Endpoint); prefer Microsoft Entra ID authentication over keys.",
    ),
    references: PROVIDER_REFS,
};

pub static AWS = Rule {
    id: "AISEC-SEC-010",
    name: "aws-credentials",
    summary: "AWS access key id or secret access key",
    default_severity: Severity::Critical,
    explanation: provider_explanation!(
        "AWS access key ids (`AKIA`, `ASIA`, `ABIA`, `ACCA` and 16 characters) and 40-character secret access keys assigned to `aws_secret_access_key`-like names.",
        "AWS keys of ML pipelines usually reach S3 buckets of training data and models, SageMaker and Bedrock: data theft, model tampering and large bills.",
        "Deactivate and delete the key in IAM, review CloudTrail for its use, and move to roles or short-lived credentials.",
    ),
    references: PROVIDER_REFS,
};

pub static GCP_SERVICE_ACCOUNT = Rule {
    id: "AISEC-SEC-011",
    name: "gcp-service-account-key",
    summary: "Google Cloud service-account key file",
    default_severity: Severity::Critical,
    explanation: provider_explanation!(
        "A Google Cloud service-account JSON key (`\"type\": \"service_account\"` with an embedded `private_key`), reported once for the whole key rather than as a bare private key.",
        "The file is a long-lived credential for the service account and all its roles: Vertex AI, GCS buckets of models and data, BigQuery.",
        "Delete the key in IAM (service account, Keys), and use workload identity federation or attached service accounts instead of key files.",
    ),
    references: PROVIDER_REFS,
};

pub static GITHUB = Rule {
    id: "AISEC-SEC-012",
    name: "github-token",
    summary: "GitHub token",
    default_severity: Severity::Critical,
    explanation: provider_explanation!(
        "GitHub personal access tokens (classic `ghp_`, fine-grained `github_pat_`), OAuth (`gho_`) and app installation (`ghs_`) tokens.",
        "A token acts as its owner on GitHub: pushes to repositories and workflows (a supply-chain attack on everything they build), reads private code and secrets of CI.",
        "Revoke it in GitHub settings (Developer settings, tokens) or through the credential revocation API.",
    ),
    references: PROVIDER_REFS,
};

pub static SLACK = Rule {
    id: "AISEC-SEC-013",
    name: "slack-token",
    summary: "Slack token or incoming webhook",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Slack bot, user and configuration tokens (`xoxb-`, `xoxp-`, `xoxe-`) and incoming webhook URLs (`hooks.slack.com/services/...`).",
        "Tokens read and post in the workspace; webhooks post as your app, a phishing channel that looks internal.",
        "Revoke the token or webhook in the Slack app's settings (OAuth and Permissions, Incoming Webhooks).",
    ),
    references: PROVIDER_REFS,
};

pub static STRIPE = Rule {
    id: "AISEC-SEC-014",
    name: "stripe-secret-key",
    summary: "Stripe secret or restricted key",
    default_severity: Severity::Critical,
    explanation: provider_explanation!(
        "Stripe secret (`sk_live_`) and restricted (`rk_live_`) keys; test-mode keys (`sk_test_`) are reported at low severity.",
        "A live secret key moves money: refunds, payouts, customer and card data.",
        "Roll the key in the Stripe dashboard (Developers, API keys).",
    ),
    references: PROVIDER_REFS,
};

pub static PRIVATE_KEY = Rule {
    id: "AISEC-SEC-015",
    name: "private-key",
    summary: "PEM or OpenSSH private key",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "PEM and OpenSSH private keys (`-----BEGIN ... PRIVATE KEY-----` followed by key material), also inside JSON strings with `\\n` escapes. Headers without a body (documentation) are not reported; encrypted keys are reported at medium severity.",
        "A private key is an identity: SSH access to machines, TLS server impersonation, signing of models and packages.",
        "Replace the key pair, remove the public half from wherever it is trusted (authorized_keys, certificates), and keep private keys out of repositories.",
    ),
    references: PROVIDER_REFS,
};

pub static JWT = Rule {
    id: "AISEC-SEC-016",
    name: "json-web-token",
    summary: "JSON Web Token",
    default_severity: Severity::Medium,
    explanation: provider_explanation!(
        "JSON Web Tokens (header, payload and signature) whose header starts with `alg` or `typ` and decodes to JSON with an `alg`.",
        "A JWT is a bearer credential until it expires; service tokens are often issued without expiry.",
        "Invalidate the token (rotate the signing key if it cannot be revoked) and issue short-lived tokens at run time.",
    ),
    references: PROVIDER_REFS,
};

pub static DATABASE_URL = Rule {
    id: "AISEC-SEC-017",
    name: "database-url-with-password",
    summary: "Database connection URL with an inline password",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "Connection URLs with a password for PostgreSQL, MySQL/MariaDB, MongoDB, Redis, AMQP, SQL Server (`mssql`) and Oracle (`postgresql://user:password@host/db`). Placeholders (`${DB_PASSWORD}`, `<password>`, `password`, `****`) are ignored.",
        "Feature stores, experiment trackers and vector databases hold training data and user content; the URL is all an attacker needs.",
        "Change the database password, and build the URL at run time from the environment or a secret manager.",
    ),
    references: PROVIDER_REFS,
};

pub static GENERIC = Rule {
    id: "AISEC-SEC-018",
    name: "generic-high-entropy-secret",
    summary: "High-entropy string assigned to a secret-like name",
    default_severity: Severity::Medium,
    explanation: provider_explanation!(
        "A quoted value of 12 or more characters with high Shannon entropy and mixed character classes, assigned to a name like `api_key`, `secret`, `token`, `password` or `credential`. Low confidence by nature; placeholders, lock files and values that look like code or paths are skipped.",
        "Credentials without a recognisable format (internal services, smaller AI providers) are found only by where they are put.",
        "If it is a credential, treat it like any other leaked key.",
    ),
    references: PROVIDER_REFS,
};

// AISEC-SEC-019 (`pii-in-notebook-output`) is retired and its id reserved
// (see `RETIRED`): personal data in notebook outputs is the data family's,
// reported by aisec-data's detectors as AISEC-DATA-012
// (`notebook-output-personal-data`).

pub static OTHER_AI = Rule {
    id: "AISEC-SEC-020",
    name: "ai-platform-token",
    summary: "Token of another AI platform (LangSmith, Perplexity, xAI, Pinecone, Weights & Biases)",
    default_severity: Severity::High,
    explanation: provider_explanation!(
        "LangSmith keys (`lsv2_pt_`, `lsv2_sk_`), Perplexity (`pplx-`), xAI (`xai-`), Pinecone (`pcsk_`) keys, and 40-hex Weights & Biases API keys next to the word `wandb`.",
        "These keys read traces of prompts and completions (often with user data), vector indexes and experiment artifacts, or bill inference.",
        "Revoke it in the platform's settings.",
    ),
    references: PROVIDER_REFS,
};

}

/// Ids this family once declared and will never declare again, each with the
/// rule that took over its job.
pub const RETIRED: &[(&str, &str)] = &[("AISEC-SEC-019", "AISEC-DATA-012")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sequential_and_documented() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        // Retired ids stay reserved: never reused, never declared again.
        let expected: Vec<String> = (1..=ids.len() + RETIRED.len())
            .map(|i| format!("AISEC-SEC-{i:03}"))
            .filter(|id| !RETIRED.iter().any(|(old, _)| old == id))
            .collect();
        assert_eq!(ids, expected);
        for r in RULES {
            for s in ["## What it finds", "## Why it matters", "## Remediation"] {
                assert!(r.explanation.contains(s), "{} lacks {s}", r.id);
            }
            assert!(!r.references.is_empty());
        }
    }
}
