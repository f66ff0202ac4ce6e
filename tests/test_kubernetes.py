"""configs/rayservice.yaml against KubeRay's RayService CRD schema (a copy in tests/data/k8s, read offline) and against
serve_config.yaml: the cluster runs the same applications the single machine does."""
import copy
import gzip
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from serve_app.builder import StylesAppArgs

ROOT = Path(__file__).resolve().parents[1]
# KubeRay's RayService CRD (ray-project/kuberay, Apache-2.0, ray-operator/config/crd/bases at commit feeaf72),
# gzipped, committed in the repository: tests/data/SOURCES.md
CRD = ROOT / "tests" / "data" / "k8s" / "ray.io_rayservices.yaml.gz"
MANIFEST = ROOT / "configs" / "rayservice.yaml"
# What the Kubernetes config may change in the styles app's args, and why: no GPU node may be up when the app
# is built (the GPU group autoscales from zero), so the choice cannot be `auto`.
K8S_STYLES_ARGS = {"accelerator": "gpu", "planned_gpus": 1}
# Two bot replicas: the bot's state is in Redis there, and leases share the chats and jobs between them.
K8S_BOT_ARGS = {"replicas": 2}


@pytest.fixture(scope="module")
def schema() -> dict:
    crd = yaml.safe_load(gzip.decompress(CRD.read_bytes()))
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    assert version["name"] == "v1"
    return version["schema"]["openAPIV3Schema"]


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return list(yaml.safe_load_all(MANIFEST.read_text()))


@pytest.fixture(scope="module")
def service(documents) -> dict:
    (found,) = [d for d in documents if d["kind"] == "RayService"]
    return found


def unknown_fields(value, schema: dict, path: str = "") -> list[str]:
    """Fields the schema does not declare. Kubernetes drops them silently (structural pruning), so a typo such
    as `workerGroupSpec` would deploy a cluster without workers; here it fails the test."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key in schema["properties"]:
                found += unknown_fields(item, schema["properties"][key], f"{path}.{key}")
            elif not schema.get("additionalProperties"):
                found.append(f"{path}.{key}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            found += unknown_fields(item, schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += unknown_fields(item, schema["items"], f"{path}[{i}]")
    return found


def problems(manifest: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]
    return errors + [f"{p}: not in the schema" for p in unknown_fields(manifest, schema)]


def test_the_rayservice_satisfies_the_crd_schema(service, schema):
    assert problems(service, schema) == []


@pytest.mark.parametrize("break_it, expected", [
    (lambda m: m["spec"]["rayClusterConfig"].update(workerGroupSpec=m["spec"]["rayClusterConfig"].pop(
        "workerGroupSpecs")), "workerGroupSpec: not in the schema"),
    (lambda m: m["spec"]["rayClusterConfig"]["workerGroupSpecs"][0].update(maxReplicas="four"), "is not of type"),
    (lambda m: m["spec"]["rayClusterConfig"]["headGroupSpec"].pop("template"), "'template' is a required"),
    (lambda m: m["spec"].update(serveConfigV2={"applications": []}), "is not of type 'string'"),
])
def test_the_check_catches_a_broken_manifest(service, schema, break_it, expected):
    broken = copy.deepcopy(service)
    break_it(broken)
    assert any(expected in p for p in problems(broken, schema)), problems(broken, schema)


def test_the_embedded_serve_config_is_the_same_application_as_serve_config_yaml(service):
    local = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    cluster = yaml.safe_load(service["spec"]["serveConfigV2"])
    assert cluster["http_options"]["host"] == "0.0.0.0"      # the Kubernetes Service must reach the proxies
    assert cluster["proxy_location"] == local["proxy_location"] == "EveryNode"
    assert {k: v for k, v in cluster["http_options"].items() if k != "host"} == \
           {k: v for k, v in local["http_options"].items() if k != "host"}
    expected = copy.deepcopy(local["applications"])
    styles = next(a for a in expected if a["name"] == "styles")
    styles["args"].update(K8S_STYLES_ARGS)
    next(a for a in expected if a["name"] == "bot")["args"].update(K8S_BOT_ARGS)
    assert cluster["applications"] == expected
    StylesAppArgs(**next(a for a in cluster["applications"] if a["name"] == "styles")["args"])


def test_cpu_head_autoscaling_gpu_workers_and_redis_for_state_and_gcs(service, documents):
    cluster = service["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    assert cluster["headGroupSpec"]["rayStartParams"]["num-gpus"] == "0"
    (gpu,) = cluster["workerGroupSpecs"]
    assert gpu["minReplicas"] == 0 < gpu["maxReplicas"]
    (worker,) = gpu["template"]["spec"]["containers"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"
    redis_service = next(d for d in documents if d["kind"] == "Service")
    redis_set = next(d for d in documents if d["kind"] == "StatefulSet")
    host = f"{redis_service['metadata']['name']}:{redis_service['spec']['ports'][0]['port']}"
    assert cluster["gcsFaultToleranceOptions"]["redisAddress"] == host
    assert redis_set["spec"]["serviceName"] == redis_service["metadata"]["name"]
    args = redis_set["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--appendonly" in args and "noeviction" in args and "--requirepass" in args
    for container in [*cluster["headGroupSpec"]["template"]["spec"]["containers"], worker]:
        env = {e["name"]: e for e in container["env"]}
        assert env["STYLEBOT_STATE_URL"]["value"].startswith(f"redis://:$(REDIS_PASSWORD)@{host}/")


def test_secrets_come_from_a_kubernetes_secret_never_from_the_manifest(documents, service):
    assert not [d for d in documents if d["kind"] == "Secret"]
    head = service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in head["env"]}
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "REDIS_PASSWORD"):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"] == "stylebot-secrets"
    text = MANIFEST.read_text()
    assert not re.search(r"\d{6,}:[A-Za-z0-9_-]{30,}", text)            # nothing shaped like a bot token


def test_the_image_holds_every_package_the_applications_import():
    dockerfile = (ROOT / "configs" / "Dockerfile").read_text()
    include = re.search(r'include = \[(.*?)\]', (ROOT / "pyproject.toml").read_text()).group(1)
    for package in re.findall(r'"(\w+)\*"', include):
        assert f"COPY --chown=ray:users {package} {package}" in dockerfile
    assert "weights fetch" in dockerfile and "FROM rayproject/ray:2.60.0" in dockerfile
