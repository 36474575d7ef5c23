"""``api`` and ``console``: a deployed stack's API, called with SigV4-signed requests."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["api", "console"]


def _api_target(args: argparse.Namespace) -> tuple[str, str] | None:
    """The deployed API's URL (``--url``, else the ``--stack``'s ApiUrl) and its region."""
    from timer_service_cli.deployment import Deployment, api_region

    if args.url is None and args.stack is None:
        print(f"timer-service {args.command}: give --stack NAME or --url URL", file=sys.stderr)
        return None
    from timer_service.settings import DEFAULT_REGION, Settings

    region = Settings.region_from_env() or DEFAULT_REGION
    url: str = args.url
    if url is None:
        deployment = Deployment.load(args.stack, endpoint_url=Settings.from_env().endpoint_url)
        url, region = deployment.output("ApiUrl"), deployment.region
    return url, api_region(url, region)


def api(args: argparse.Namespace) -> int:
    from timer_service_cli.deployment import parse_body, signed_call

    target = _api_target(args)
    if target is None:
        return 2
    url, region = target
    try:
        body = parse_body(args.body)
    except (ValueError, OSError) as exc:
        print(f"timer-service api: the body is not JSON: {exc}", file=sys.stderr)
        return 2
    response = signed_call(
        args.method,
        url,
        args.path,
        body=body,
        region=region,
        api_key=args.api_key,
    )
    print(f"HTTP {response.status_code}", file=sys.stderr)
    try:
        print(json.dumps(response.json(), indent=2))
    except ValueError:
        print(response.text)
    return 0 if response.is_success else 1


def console(args: argparse.Namespace) -> int:
    from timer_service_cli.console_proxy import ConsoleProxy

    target = _api_target(args)
    if target is None:
        return 2
    url, region = target
    proxy = ConsoleProxy(url, region=region, host=args.host, port=args.port)
    print(f"Console  {proxy.url}/console/", flush=True)
    print(f"API      {url} (calls signed with your AWS credentials)", flush=True)
    print("Ctrl-C stops.", flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0
