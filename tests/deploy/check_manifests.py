#!/usr/bin/env python3
"""Checks deploy/: every YAML file parses, kustomization.yaml lists exactly the manifests, and the objects
have the expected kinds and the settings docs/deploy.md promises (least-privilege RBAC, the DaemonSet's
hostNetwork/capabilities/probes/NODE_NAME, the webhook's CREATE-only rule, failurePolicy, objectSelector,
reinvocationPolicy). Usage: check_manifests.py DEPLOY_DIR"""
import os
import sys

import yaml


def main(deploy_dir):
    objects = {}
    files = sorted(f for f in os.listdir(deploy_dir) if f.endswith(".yaml"))
    for name in files:
        with open(os.path.join(deploy_dir, name)) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                assert "kind" in doc, f"{name}: document without kind"
                key = (doc["kind"], doc.get("metadata", {}).get("name"))
                assert key not in objects, f"{name}: duplicate {key}"
                objects[key] = doc

    kustomization = objects.pop(("Kustomization", None), None)
    with open(os.path.join(deploy_dir, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    assert sorted(kustomization["resources"]) == sorted(f for f in files if f != "kustomization.yaml"), \
        f"kustomization resources {kustomization['resources']} != {files}"

    expected = {
        ("Namespace", "wims-system"), ("ServiceAccount", "wims-node"), ("ServiceAccount", "wims-webhook"),
        ("ClusterRole", "wims-node"), ("ClusterRoleBinding", "wims-node"), ("ClusterRole", "wims-webhook"),
        ("ClusterRoleBinding", "wims-webhook"), ("ConfigMap", "wims-config"), ("DaemonSet", "wims-node"),
        ("Deployment", "wims-webhook"), ("Service", "wims-webhook"),
        ("MutatingWebhookConfiguration", "wims-webhook"),
    }
    got = {k for k in objects if k[0] != "Kustomization"}
    assert got == expected, f"missing {expected - got}, unexpected {got - expected}"

    # RBAC: nothing beyond get/list/watch pods+serviceaccounts and create serviceaccounts/token.
    allowed = {("pods", "get"), ("pods", "list"), ("pods", "watch"), ("serviceaccounts", "get"),
               ("serviceaccounts", "list"), ("serviceaccounts", "watch"), ("serviceaccounts/token", "create")}
    for role in ("wims-node", "wims-webhook"):
        for rule in objects[("ClusterRole", role)]["rules"]:
            assert rule["apiGroups"] == [""], f"{role}: apiGroups {rule['apiGroups']}"
            for r in rule["resources"]:
                for v in rule["verbs"]:
                    assert (r, v) in allowed, f"{role}: {v} {r} is more than least privilege"
    node_verbs = {(r, v) for rule in objects[("ClusterRole", "wims-node")]["rules"]
                  for r in rule["resources"] for v in rule["verbs"]}
    assert node_verbs == allowed, f"wims-node lacks {allowed - node_verbs}"

    ds = objects[("DaemonSet", "wims-node")]["spec"]["template"]["spec"]
    assert ds["hostNetwork"] is True
    c = ds["containers"][0]
    assert c["args"][0] == "node"
    assert set(c["securityContext"]["capabilities"]["add"]) == {"NET_ADMIN", "NET_RAW"}
    assert {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in c["env"]
    admin_port = next(p["containerPort"] for p in c["ports"] if p["name"] == "admin")
    assert any(a == f"--admin-addr=[::]:{admin_port}" for a in c["args"])
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]

    dep = objects[("Deployment", "wims-webhook")]["spec"]["template"]["spec"]
    wc = dep["containers"][0]
    assert wc["args"][0] == "webhook"
    assert any(a.startswith("--tls-cert=") for a in wc["args"]) and any(a.startswith("--tls-key=") for a in wc["args"])
    assert wc["resources"]["requests"]

    mwc = objects[("MutatingWebhookConfiguration", "wims-webhook")]["webhooks"][0]
    assert mwc["admissionReviewVersions"] == ["v1"]
    assert mwc["clientConfig"]["service"]["path"] == "/mutate"
    assert mwc["rules"][0]["operations"] == ["CREATE"] and mwc["rules"][0]["resources"] == ["pods"]
    assert mwc["failurePolicy"] in ("Ignore", "Fail")
    assert mwc["reinvocationPolicy"] == "IfNeeded"
    assert mwc["sideEffects"] == "None"
    assert 1 <= mwc["timeoutSeconds"] <= 30
    assert mwc["objectSelector"]["matchExpressions"][0]["key"] == "eks.amazonaws.com/skip-pod-identity-webhook"
    # Our own pods opt out, so the webhook never mutates (or depends on) itself.
    for spec in (objects[("DaemonSet", "wims-node")], objects[("Deployment", "wims-webhook")]):
        assert "eks.amazonaws.com/skip-pod-identity-webhook" in spec["spec"]["template"]["metadata"]["labels"]
    svc = objects[("Service", "wims-webhook")]
    assert svc["spec"]["selector"] == objects[("Deployment", "wims-webhook")]["spec"]["selector"]["matchLabels"]
    # Uninstall: the cleanup DaemonSet removes netguard's table on every node (kept out of kustomization.yaml).
    with open(os.path.join(deploy_dir, "uninstall", "netguard-cleanup.yaml")) as f:
        cleanup = yaml.safe_load(f)
    assert cleanup["kind"] == "DaemonSet"
    pod = cleanup["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["initContainers"][0]["args"] == ["netguard", "remove"]
    assert "NET_ADMIN" in pod["initContainers"][0]["securityContext"]["capabilities"]["add"]
    assert not any("uninstall" in r for r in kustomization["resources"])
    print(f"deploy: {len(got)} objects in {len(files)} files OK")


if __name__ == "__main__":
    main(sys.argv[1])
