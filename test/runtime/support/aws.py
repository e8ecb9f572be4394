"""AWS on loopback: moto's server for S3, Secrets Manager and STS, an agent that hands out
credentials the way the EKS Pod Identity agent does, and the resources of a synthesized stage
created there from its templates (not retyped).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import secrets
import string
import sys
import threading
from pathlib import Path

from .assembly import Assembly
from .processes import ManagedProcess, free_port, wait_for_http

# moto accepts any key; these only have to look like a key pair.
ACCESS_KEY_ID = "AKIARUNTIMETESTS0001"
SECRET_ACCESS_KEY = "runtime-tests-not-a-secret"
SESSION_TOKEN = "runtime-tests-session"


class MotoServer:
    def __init__(self, root: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            "moto",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            log_path=root / "moto.log",
        )
        wait_for_http(f"{self.url}/moto-api/", self.process, timeout=60)

    def client(self, service: str, region: str):
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def stop(self) -> None:
        self.process.stop()


class PodIdentityAgent:
    """Serves container credentials as the Pod Identity agent does at 169.254.170.23.

    Pods get ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and a token file from EKS; every AWS SDK in
    them then asks the agent, with the token, for temporary credentials. Serving the same here
    proves the image's SDK finds its credentials that way and needs no keys in its environment.
    """

    TOKEN = "runtime-tests-service-account-token"

    def __init__(self, root: Path):
        self.token_file = root / "eks-pod-identity-token"
        self.token_file.write_text(self.TOKEN)
        self.token_file.chmod(0o644)
        self.requests = 0
        agent = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.headers.get("Authorization") != PodIdentityAgent.TOKEN:
                    self.send_response(401)
                    self.end_headers()
                    return
                agent.requests += 1
                body = json.dumps(
                    {
                        "AccessKeyId": ACCESS_KEY_ID,
                        "SecretAccessKey": SECRET_ACCESS_KEY,
                        "Token": SESSION_TOKEN,
                        "AccountId": "123456789012",
                        "Expiration": "2999-01-01T00:00:00Z",
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/credentials"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def environment(self) -> dict[str, str]:
        """What EKS injects into a pod whose service account has an association."""
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(self.token_file),
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def secret_name(arn: str) -> str:
    """The name in a Secrets Manager ARN, which ends in -<six random characters>."""
    return arn.split(":secret:")[1].rsplit("-", 1)[0]


def generate_secret_string(rules: dict) -> str:
    """A value that obeys a template's GenerateSecretString, as Secrets Manager makes one."""
    alphabet = string.ascii_letters + string.digits
    if not rules.get("ExcludePunctuation"):
        alphabet += string.punctuation
    excluded = set(rules.get("ExcludeCharacters", ""))
    alphabet = "".join(character for character in alphabet if character not in excluded)
    password = "".join(secrets.choice(alphabet) for _ in range(int(rules.get("PasswordLength", 32))))
    if "SecretStringTemplate" not in rules:
        return password
    document = json.loads(rules["SecretStringTemplate"])
    document[rules["GenerateStringKey"]] = password
    return json.dumps(document)


def _hex_id(*parts: str) -> str:
    """A stable 16-digit hex id, as load balancing puts at the end of its ARNs."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def provision(assembly: Assembly, aws: MotoServer, database_host: str, database_port: int) -> dict[str, str]:
    """Creates every secret and bucket the stage's templates define, and records what stands in
    for the resources whose values the manifests use. Returns secret name -> secret string."""
    region = assembly.region
    secretsmanager = aws.client("secretsmanager", region)
    s3 = aws.client("s3", region)
    values: dict[str, str] = {}
    for stack in assembly.stacks.values():
        for logical_id, properties in stack.resources("AWS::SecretsManager::Secret"):
            name = properties.get("Name") or f"{stack.name}-{logical_id}"
            value = generate_secret_string(properties.get("GenerateSecretString", {}))
            arn = secretsmanager.create_secret(Name=name, SecretString=value)["ARN"]
            values[name] = value
            assembly.provide(stack, logical_id, arn, Id=arn)
        for logical_id, properties in stack.resources("AWS::SecretsManager::SecretTargetAttachment"):
            # Its Ref is the secret's ARN.
            assembly.provide(stack, logical_id, assembly.resolve(stack, properties["SecretId"]))
        for logical_id, properties in stack.resources("AWS::S3::Bucket"):
            name = properties.get("BucketName") or f"{stack.name}-{logical_id}".lower()[:63]
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
            assembly.provide(stack, logical_id, name, Arn=f"arn:aws:s3:::{name}")
        for logical_id, _ in stack.resources("AWS::RDS::DBInstance"):
            assembly.provide(
                stack,
                logical_id,
                logical_id.lower(),
                **{"Endpoint.Address": database_host, "Endpoint.Port": str(database_port)},
            )
        # Load balancing has no emulator here; the manifests only carry these names and ARNs.
        elb = f"arn:aws:elasticloadbalancing:{region}:{assembly.account}"
        for logical_id, _ in stack.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            full_name = f"app/{logical_id.lower()[:32]}/{_hex_id(stack.name, logical_id)}"
            assembly.provide(stack, logical_id, f"{elb}:loadbalancer/{full_name}", LoadBalancerFullName=full_name)
        for logical_id, properties in stack.resources("AWS::ElasticLoadBalancingV2::Listener"):
            balancer = assembly.resolve(stack, properties["LoadBalancerArn"]).split(":loadbalancer/", 1)[1]
            assembly.provide(stack, logical_id, f"{elb}:listener/{balancer}/{_hex_id(stack.name, logical_id)}")
        for logical_id, _ in stack.resources("AWS::ElasticLoadBalancingV2::TargetGroup"):
            full_name = f"targetgroup/{logical_id.lower()[:32]}/{_hex_id(stack.name, logical_id)}"
            assembly.provide(stack, logical_id, f"{elb}:{full_name}", TargetGroupFullName=full_name)
        for logical_id, properties in stack.resources("AWS::ECR::Repository"):
            name = properties.get("RepositoryName") or f"{stack.name}-{logical_id}".lower()
            arn = f"arn:aws:ecr:{region}:{assembly.account}:repository/{name}"
            uri = f"{assembly.account}.dkr.ecr.{region}.amazonaws.com/{name}"
            assembly.provide(stack, logical_id, name, Arn=arn, RepositoryUri=uri)
    return values
