"""AWS sessions and clients for the audit: credentials per account, retries, read-only calls.

Credentials come the standard way (environment, shared config and profiles); with a role name,
the audit assumes ``arn:aws:iam::ACCOUNT:role/NAME`` in each account through STS. Endpoint
overrides (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3``, ...) and ``AWS_MAX_ATTEMPTS`` are
boto3's own. Every call goes through :class:`Reader`, which allows only the operations in
:data:`~xflow_perimeter.audit.permissions.READS` and turns a failure into :class:`Unreadable`
data instead of an exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from xflow_perimeter.audit.live import FailureKind, Missing, Unreadable
from xflow_perimeter.audit.permissions import read_operation

Response = dict[str, Any]
SessionHook = Callable[[Any], None]  # receives each boto3.Session before clients are made
USER_AGENT = "xflow-audit"
ROLE_SESSION_NAME = "xflow-audit"

_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AllAccessDisabled",
        "AuthFailure",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "OptInRequired",
    }
)
# The error codes botocore's standard retry mode treats as throttling.
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """AWS credentials: an access key pair, and the session token of temporary credentials."""

    access_key: str
    secret_key: str = field(repr=False)  # never in a traceback or a log line
    token: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class Access:
    """How the audit reaches one account: credentials, or why it cannot."""

    account_id: str
    credentials: Credentials | None
    failure: Unreadable | None


def client_config() -> Any:
    """botocore's standard retry mode (backoff with jitter; ``AWS_MAX_ATTEMPTS`` sets attempts),
    and a connect timeout short enough that an unreachable endpoint is reported in good time."""
    from botocore.config import Config

    return Config(retries={"mode": "standard"}, connect_timeout=10, user_agent_extra=USER_AGENT)


class Sessions:
    """Makes boto3 sessions, one per worker task and thread (sessions are not thread-safe).

    They share botocore's loaded service models (reading EC2's alone takes a good part of a
    second per session) and pass through ``hook``, which sees each session before any client.
    """

    def __init__(self, hook: SessionHook | None = None) -> None:
        import botocore.session

        self._hook = hook
        self._loader = botocore.session.get_session().get_component("data_loader")

    def new(self, credentials: Credentials | None, region: str) -> Any:
        import boto3
        import botocore.session

        core = botocore.session.get_session()
        core.register_component("data_loader", self._loader)
        if credentials is None:
            session = boto3.Session(botocore_session=core, region_name=region)
        else:
            session = boto3.Session(
                aws_access_key_id=credentials.access_key,
                aws_secret_access_key=credentials.secret_key,
                aws_session_token=credentials.token,
                region_name=region,
                botocore_session=core,
            )
        if self._hook is not None:
            self._hook(session)
        return session


def base_credentials(sessions: Sessions) -> Credentials | str:
    """The caller's own credentials, resolved once, or why there are none."""
    from botocore.exceptions import BotoCoreError

    session = sessions.new(None, "us-east-1")
    try:
        found = session.get_credentials()
        frozen = found.get_frozen_credentials() if found is not None else None
    except BotoCoreError as error:
        return f"cannot load AWS credentials: {error}"
    if frozen is None or not frozen.access_key:
        return (
            "no AWS credentials found (environment variables, shared credentials and config "
            "files, or a profile through AWS_PROFILE)"
        )
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def account_access(
    account_id: str,
    region: str,
    base: Credentials,
    role_name: str | None,
    caller_account: str | Unreadable | None,
    sessions: Sessions,
) -> Access:
    """Credentials for ``account_id``: the assumed role, or the caller's own if they are for it."""
    if role_name is None:
        if isinstance(caller_account, Unreadable):
            return Access(account_id, None, _for_account(caller_account, account_id))
        if caller_account != account_id:
            return Access(
                account_id,
                None,
                Unreadable(
                    account_id,
                    region,
                    "the caller's credentials",
                    "sts:GetCallerIdentity",
                    "credentials",
                    f"the credentials are for account {caller_account}; give --role-name NAME "
                    "to assume a role in each account of the spec",
                ),
            )
        return Access(account_id, base, None)
    role_arn = f"arn:aws:iam::{account_id}:role/{role_name}"
    sts = Reader(sessions.new(base, region), account_id, region, caller=True)
    answer = sts.call(
        "sts", "AssumeRole", f"role {role_arn}", RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME
    )
    if isinstance(answer, Unreadable):
        return Access(account_id, None, answer)
    if isinstance(answer, Missing):
        failure = Unreadable(
            account_id, region, f"role {role_arn}", "sts:AssumeRole", "credentials", answer.code
        )
        return Access(account_id, None, failure)
    issued = answer["Credentials"]
    return Access(
        account_id,
        Credentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"]),
        None,
    )


def caller_account(base: Credentials, region: str, sessions: Sessions) -> str | Unreadable:
    """The account the caller's own credentials belong to (sts:GetCallerIdentity)."""
    sts = Reader(sessions.new(base, region), "", region, caller=True)
    answer = sts.call("sts", "GetCallerIdentity", "the caller's identity")
    if isinstance(answer, dict):
        return str(answer["Account"])
    if isinstance(answer, Missing):
        return Unreadable(
            "", region, "the caller's identity", "sts:GetCallerIdentity", "error", answer.code
        )
    return answer


def _for_account(failure: Unreadable, account_id: str) -> Unreadable:
    return Unreadable(
        account_id, failure.region, failure.subject, failure.action, failure.kind, failure.reason
    )


class Reader:
    """Read-only calls in one account and Region, each checked against the catalogue."""

    def __init__(self, session: Any, account_id: str, region: str, *, caller: bool = False):
        self.session = session
        self.account_id = account_id
        self.region = region
        self._caller = caller  # STS calls with the caller's own credentials
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, config=client_config()
            )
        return self._clients[service]

    def _action(self, service: str, operation: str) -> str:
        if self._caller and service == "sts":
            return f"sts:{operation}"
        return read_operation(service, operation).action

    def call(
        self,
        service: str,
        operation: str,
        subject: str,
        *,
        absent: Collection[str] = (),
        **params: Any,
    ) -> Response | Missing | Unreadable:
        """One call; ``absent``: error codes that mean "not there" and come back as Missing."""
        from botocore import xform_name

        action = self._action(service, operation)
        method = getattr(self.client(service), xform_name(operation))
        try:
            return dict(method(**params))
        except Exception as error:  # classified below; anything not from botocore is re-raised
            return self._failed(error, subject, action, absent)

    def pages(
        self, service: str, operation: str, subject: str, result_key: str, **params: Any
    ) -> list[Response] | Unreadable:
        """Every item of a paginated list: botocore's paginator, or NextToken where it has none."""
        from botocore import xform_name

        action = self._action(service, operation)
        client = self.client(service)
        method = xform_name(operation)
        items: list[Response] = []
        try:
            for page in self._page_iterator(client, method, params):
                items.extend(page.get(result_key, []))
        except Exception as error:
            failed = self._failed(error, subject, action, ())
            return failed if isinstance(failed, Unreadable) else []
        return items

    @staticmethod
    def _page_iterator(client: Any, method: str, params: dict[str, Any]) -> Iterator[Response]:
        if client.can_paginate(method):
            yield from client.get_paginator(method).paginate(**params)
            return
        token: str | None = None
        while True:
            page = getattr(client, method)(**params, **({"NextToken": token} if token else {}))
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def _failed(
        self, error: Exception, subject: str, action: str, absent: Collection[str]
    ) -> Missing | Unreadable:
        kind, reason, code = classify(error)
        if code is not None and code in absent:
            return Missing(code)
        return Unreadable(self.account_id, self.region, subject, action, kind, reason)


def classify(error: Exception) -> tuple[FailureKind, str, str | None]:
    """What kind of failure ``error`` is, a reason for the report, and AWS's error code."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", "Unknown"))
        message = str(details.get("Message", "")).strip()
        attempts = int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        said = f"{code}: {message}" if message else code
        if code in _DENIED:
            return "denied", f"access denied ({said})", code
        if code in _THROTTLED:
            return "throttled", f"throttled after {attempts} attempt(s) ({said})", code
        return "error", said, code
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return "credentials", str(error), None
    if isinstance(error, ConnectionError | HTTPClientError):
        return "unreachable", f"endpoint unreachable: {error}", None
    if isinstance(error, BotoCoreError):
        return "error", f"{type(error).__name__}: {error}", None
    raise error


class Readers:
    """One Reader (so one boto3 session and its clients) per worker thread, account and Region."""

    def __init__(self, access: dict[str, Access], sessions: Sessions) -> None:
        self._access = access
        self._sessions = sessions
        self._local = threading.local()

    def get(self, account_id: str, region: str) -> Reader:
        cache: dict[tuple[str, str], Reader] = self._local.__dict__.setdefault("readers", {})
        key = (account_id, region)
        if key not in cache:
            credentials = self._access[account_id].credentials
            cache[key] = Reader(self._sessions.new(credentials, region), account_id, region)
        return cache[key]
