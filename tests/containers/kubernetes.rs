//! The Kubernetes manifests (deploy/kubernetes/), checked without a
//! cluster (none can run on the machine that tests them): rendered with
//! `kubectl kustomize` and validated against the Kubernetes API schemas
//! (`kubernetes-validate --strict`), and their values checked against the
//! image: the StatefulSet's container run as the pod would run it (its
//! user, read-only root, no capabilities, its environment with the pod IP
//! filled in), its probes' commands run in it and succeed, its ports are
//! the image's EXPOSE, its volume is the image's data directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use p2pnode_testkit::{Wait, run_bounded};
use serde_json::Value;

use crate::engine::{docker, docker_ok, image, repo};
use crate::lab::Lab;
use crate::{prepare, step};

/// The Kubernetes versions validated against: the oldest and the newest
/// whose schemas kubernetes-validate ships.
const VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

fn dir() -> PathBuf {
    repo().join("deploy/kubernetes")
}

/// The validator: `$P2PNODE_K8S_VALIDATE` (.ci/run installs it in a venv),
/// else `kubernetes-validate` on the PATH.
fn validator() -> String {
    std::env::var("P2PNODE_K8S_VALIDATE").unwrap_or_else(|_| "kubernetes-validate".into())
}

fn run(program: &str, args: &[&str]) -> p2pnode_testkit::Finished {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_bounded(cmd, Duration::from_secs(120))
}

/// `kubectl` and the validator answer.
pub fn tools() -> Result<(), String> {
    let kubectl = run("kubectl", &["version", "--client"]);
    if !kubectl.ok() {
        return Err(format!("no kubectl: {kubectl}"));
    }
    let v = run(&validator(), &["--version"]);
    if !v.ok() {
        return Err(format!(
            "no {} (pip install kubernetes-validate): {v}",
            validator()
        ));
    }
    Ok(())
}

/// Every manifest in the directory is in the kustomization; the rendered
/// objects pass strict schema validation for each of [`VERSIONS`].
pub fn kubernetes_manifests_validate() {
    let kustomization = std::fs::read_to_string(dir().join("kustomization.yaml"))
        .expect("deploy/kubernetes/kustomization.yaml");
    for entry in std::fs::read_dir(dir()).expect("deploy/kubernetes") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            assert!(
                kustomization.contains(&format!("- {name}")),
                "{name} is not in kustomization.yaml"
            );
        }
    }
    let rendered = run("kubectl", &["kustomize", &dir().to_string_lossy()]);
    assert!(rendered.ok(), "kubectl kustomize failed: {rendered}");
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    std::fs::write(file.path(), &rendered.stdout).expect("write the rendered manifests");
    let kinds: Vec<&str> = rendered
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    for kind in ["Service", "StatefulSet", "PodDisruptionBudget"] {
        assert!(kinds.contains(&kind), "no {kind} rendered: {kinds:?}");
    }
    let path = file.path().to_string_lossy().into_owned();
    for version in VERSIONS {
        let out = run(&validator(), &["--strict", "-k", version, &path]);
        assert!(out.ok(), "kubernetes-validate {version}: {out}");
        let passed = out.stdout.matches(" passed for resource ").count()
            + out.stderr.matches(" passed for resource ").count();
        assert_eq!(
            passed,
            kinds.len(),
            "kubernetes-validate {version} validated {passed} of {} objects: {out}",
            kinds.len()
        );
        eprintln!(
            "[kubernetes] {} objects valid against Kubernetes {version} (strict)",
            kinds.len()
        );
    }
}

/// One YAML document as JSON.
fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The StatefulSet's container against the image; see the module docs.
pub fn kubernetes_manifests_match_the_image() {
    prepare();
    let t = Instant::now();
    let sts = yaml(&dir().join("statefulset.yaml"));
    let pod = &sts["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let inspect = |fmt: &str| docker_ok(&["image", "inspect", "--format", fmt, &image()]);

    // Ports: the container's are the image's EXPOSE.
    let mut ports: Vec<String> = c["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["containerPort"],
                p["protocol"].as_str().unwrap_or("TCP").to_lowercase()
            )
        })
        .collect();
    ports.sort();
    let exposed = inspect("{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}");
    let mut exposed: Vec<String> = exposed.split_whitespace().map(str::to_string).collect();
    exposed.sort();
    assert_eq!(ports, exposed, "container ports vs the image's EXPOSE");
    // User: the image's.
    let user = format!(
        "{}:{}",
        pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]
    );
    assert_eq!(
        user,
        inspect("{{.Config.User}}"),
        "runAsUser:runAsGroup vs the image's USER"
    );
    // Volume: mounted on the image's data directory, a VOLUME of the image.
    let mount = c["volumeMounts"][0]["mountPath"]
        .as_str()
        .expect("mountPath")
        .to_string();
    let data_dir = inspect("{{range .Config.Env}}{{println .}}{{end}}")
        .lines()
        .find_map(|l| l.strip_prefix("P2PNODE_DATA_DIR=").map(str::to_string))
        .expect("P2PNODE_DATA_DIR in the image");
    assert_eq!(
        mount, data_dir,
        "volume mount vs the image's P2PNODE_DATA_DIR"
    );
    assert!(
        inspect("{{json .Config.Volumes}}").contains(&format!("\"{data_dir}\"")),
        "{data_dir} is no VOLUME of the image"
    );
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], c["volumeMounts"][0]["name"],
        "the mount's volume is the claim template"
    );
    step(
        t,
        &format!("ports {ports:?}, user {user}, volume {mount}: as in the image"),
    );

    // Run the container as the pod would, its pod IP fixed on a network of ours.
    let mut lab = Lab::new("k8s");
    let pid = std::process::id();
    let (a, b) = (150 + pid % 50, (pid / 50) % 256);
    let pod_ip = format!("10.{a}.{b}.10");
    let net = lab.network(&["--subnet", &format!("10.{a}.{b}.0/24")]);
    let name = lab.name("p2pnode-0");
    // What the kubelet gives pod 0: its FQDN in /etc/hosts, the namespace's
    // search domains (the alias only keeps a dial of the name on this host).
    let fqdn = format!("p2pnode-0.p2pnode.default.svc.cluster.local:{pod_ip}");
    let volume = format!("{name}-data");
    let label = lab.label();
    lab.res.volumes.push(volume.clone());
    docker_ok(&["volume", "create", "--label", &label, &volume]);
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        &name,
        "--hostname",
        "p2pnode-0",
        "--label",
        &label,
        "--network",
        &net,
        "--ip",
        &pod_ip,
        "--network-alias",
        "p2pnode-0.p2pnode",
        "--add-host",
        &fqdn,
        "--dns-search",
        "default.svc.cluster.local",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--user",
        &user,
        "-v",
        &format!("{volume}:{mount}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for e in c["env"].as_array().expect("env") {
        let key = e["name"].as_str().expect("env name");
        let value = if key == "POD_IP" {
            assert_eq!(
                e["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP",
                "{e}"
            );
            pod_ip.clone()
        } else {
            e["value"]
                .as_str()
                .expect("env value")
                .replace("$(POD_IP)", &pod_ip)
        };
        args.extend(["-e".to_string(), format!("{key}={value}")]);
    }
    args.push(image());
    lab.res.containers.push(name.clone());
    docker_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // The probes' commands, run in the container, succeed.
    for probe in ["readinessProbe", "livenessProbe"] {
        let command: Vec<&str> = c[probe]["exec"]["command"]
            .as_array()
            .unwrap_or_else(|| panic!("{probe} has no exec command"))
            .iter()
            .map(|s| s.as_str().expect("string"))
            .collect();
        let mut exec = vec!["exec", name.as_str()];
        exec.extend(&command);
        Wait::new(Duration::from_secs(60))
            .pace(Duration::from_millis(500))
            .eventually(|| {
                let out = docker(&exec);
                if out.ok() && out.stdout.contains("peer id") {
                    Ok(())
                } else {
                    Err(format!("{probe} {command:?}: {out}"))
                }
            });
        step(t, &format!("{probe} {command:?} succeeds in the container"));
    }
    // Pod 0 is its own bootstrap peer (p2pnode-0.p2pnode): it sees so at
    // start and carries on as the first node, not dialling itself.
    Wait::new(Duration::from_secs(30))
        .pace(Duration::from_millis(500))
        .eventually(|| {
            let logs = docker(&["logs", &name]);
            if logs.stderr.contains("in its own bootstrap list") {
                Ok(())
            } else {
                Err(format!(
                    "pod 0 did not see it is its own bootstrap peer: {}",
                    logs.stderr
                ))
            }
        });
    // The pod IP is what the node advertises.
    let out = docker_ok(&["exec", &name, "p2pnode", "ctl", "--json", "id"]);
    let id: Value = serde_json::from_str(&out).expect("id JSON");
    for want in [
        format!("/ip4/{pod_ip}/tcp/4001"),
        format!("/ip4/{pod_ip}/udp/4001/quic-v1"),
    ] {
        assert!(
            id["external"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == want.as_str())),
            "{want} not advertised: {id}"
        );
    }
    let memory = docker_ok(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &name]);
    step(
        t,
        &format!("the node advertises its pod IP {pod_ip}; memory {memory}"),
    );
}
