"""Reads a synthesized cloud assembly: its stacks' templates, the resources in them, the
Kubernetes objects they apply, and the intrinsic functions in those objects, resolved against
what the tests created in place of the real resources.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

KUBERNETES_RESOURCE_TYPE = "Custom::AWSCDK-EKS-KubernetesResource"

# Pseudo parameters, as the environment's config sets them.
_PSEUDO = {"AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws", "AWS::NoValue": None}


class UnresolvedValue(Exception):
    """An intrinsic names something the tests did not create; the message says what."""


@dataclass
class Stack:
    name: str
    template: dict

    def resources(self, type_name: str) -> Iterator[tuple[str, dict]]:
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") == type_name:
                yield logical_id, resource.get("Properties", {})


@dataclass
class Assembly:
    """Every stack of one stage, by CloudFormation stack name."""

    stacks: dict[str, Stack]
    region: str
    account: str
    # (stack name, logical ID) -> {"Ref": value, "<attribute>": value}
    physical: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # When set, a value nothing stands in for becomes this text instead of an error: for readers
    # that need the objects' shape, not their deploy-time values.
    placeholder: str | None = None
    # The folder it was read from, which holds its asset manifests.
    folder: Path | None = None

    @classmethod
    def load(cls, folder: Path) -> "Assembly":
        manifest = json.loads((folder / "manifest.json").read_text())
        stacks: dict[str, Stack] = {}
        region = account = ""
        for artifact in manifest["artifacts"].values():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            properties = artifact["properties"]
            name = properties.get("stackName") or artifact["displayName"]
            stacks[name] = Stack(name, json.loads((folder / properties["templateFile"]).read_text()))
            # aws://<account>/<region>
            account, region = artifact["environment"].removeprefix("aws://").split("/")
        return cls(stacks, region, account, folder=folder)

    def stack(self, suffix: str) -> Stack:
        """The stage's stack whose name ends with ``-<suffix>``, e.g. ``Mlflow``."""
        matches = [stack for name, stack in self.stacks.items() if name.endswith(f"-{suffix}")]
        if len(matches) != 1:
            raise KeyError(f"no single stack named *-{suffix} in {sorted(self.stacks)}")
        return matches[0]

    def image_source(self, image_uri: str) -> tuple[Path, Path]:
        """The build context and the Dockerfile of the image asset ``image_uri`` names by its tag, the asset's hash."""
        tag = image_uri.rpartition(":")[2]
        for manifest in sorted(self.folder.glob("*.assets.json")) if self.folder else []:
            image = json.loads(manifest.read_text()).get("dockerImages", {}).get(tag)
            if image is not None:
                context = (self.folder / image["source"]["directory"]).resolve()
                return context, context / image["source"].get("dockerFile", "Dockerfile")
        raise KeyError(f"{image_uri} is no image asset of the assembly")

    def provide(self, stack: Stack, logical_id: str, ref: Any, **attributes: Any) -> None:
        """Records what stands in for a resource: its Ref value and attributes."""
        self.physical[(stack.name, logical_id)] = {"Ref": ref, **attributes}

    # -----------------------------------------------------------------------------------------
    # Intrinsic functions

    def resolve(self, stack: Stack, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(stack, item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            handler: Callable[[Stack, Any], Any] | None = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Join": self._join,
                "Fn::Sub": self._sub,
                "Fn::GetStackOutput": self._stack_output,
                "Fn::Select": lambda s, a: self.resolve(s, a[1])[int(a[0])],
                "Fn::Split": lambda s, a: self.resolve(s, a[1]).split(a[0]),
            }.get(key)
            if handler is not None:
                return handler(stack, argument)
            if key.startswith("Fn::"):
                raise UnresolvedValue(f"{stack.name}: intrinsic {key} is not emulated")
        return {key: self.resolve(stack, item) for key, item in value.items()}

    def _ref(self, stack: Stack, name: str) -> Any:
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return self.account
        if name == "AWS::StackName":
            return stack.name
        return self._attribute(stack, name, "Ref")

    def _get_att(self, stack: Stack, argument: Any) -> Any:
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        return self._attribute(stack, logical_id, attribute)

    def _attribute(self, stack: Stack, logical_id: str, attribute: str) -> Any:
        provided = self.physical.get((stack.name, logical_id))
        if (provided is None or attribute not in provided) and self.placeholder is not None:
            return self.placeholder
        if provided is None or attribute not in provided:
            kind = stack.template.get("Resources", {}).get(logical_id, {}).get("Type", "a parameter")
            raise UnresolvedValue(f"{stack.name}: {logical_id} ({kind}) {attribute} has no emulated value")
        return provided[attribute]

    def _join(self, stack: Stack, argument: Any) -> str:
        separator, parts = argument
        return separator.join(str(self.resolve(stack, part)) for part in parts)

    def _sub(self, stack: Stack, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(stack, variables[name]))
            if "." in name:
                return str(self._get_att(stack, name))
            return str(self._ref(stack, name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def _stack_output(self, stack: Stack, argument: dict) -> Any:
        producer = self.stacks[argument["StackName"]]
        output = producer.template["Outputs"][argument["OutputName"]]
        return self.resolve(producer, output["Value"])

    # -----------------------------------------------------------------------------------------
    # Kubernetes objects

    def applied_objects(self, stack: Stack) -> list[dict]:
        """Every object the stack applies to the cluster, with deploy-time values resolved."""
        objects: list[dict] = []
        for _, properties in stack.resources(KUBERNETES_RESOURCE_TYPE):
            objects.extend(json.loads(self.resolve(stack, properties["Manifest"])))
        return objects


def find_object(objects: list[dict], kind: str, name_pattern: str) -> dict:
    """The one object of ``kind`` whose name matches ``name_pattern`` (a regular expression)."""
    matches = [o for o in objects if o["kind"] == kind and re.fullmatch(name_pattern, o["metadata"]["name"])]
    if len(matches) != 1:
        raise KeyError(f"expected one {kind} named {name_pattern}, found {len(matches)}")
    return matches[0]
