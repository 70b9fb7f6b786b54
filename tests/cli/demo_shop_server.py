"""A stdlib loopback implementation of the demo-shop API that examples/ journeys target.

It mirrors reqflo/demo (the Django demo target: login, products, carts, checkout, orders) so
the CLI tests and the benchmarks in bench/ can run the examples without the Django app. Run it
as a separate process with `python -m tests.cli.demo_shop_server --port 8765 [--latency-ms 20]`
to keep it off the benchmark's GIL.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer, serving

API_PREFIX = "/demo-shop/api"
# How many requests the shop has answered (not counting this one), for bench/tools.py.
STATS_PATH = f"{API_PREFIX}/_stats"

PRODUCTS: dict[str, dict[str, Any]] = {
    "tea-01": {"sku": "tea-01", "name": "Sencha green tea", "price": 4.5},
    "mug-02": {"sku": "mug-02", "name": "Stoneware mug", "price": 12.0},
    "pot-03": {"sku": "pot-03", "name": "Cast iron teapot", "price": 39.9},
}

_CART_ITEMS = re.compile(r"^/carts/(?P<cart>[^/]+)/items$")
_CART_CHECKOUT = re.compile(r"^/carts/(?P<cart>[^/]+)/checkout$")
_CART = re.compile(r"^/carts/(?P<cart>[^/]+)$")
_ORDER = re.compile(r"^/orders/(?P<order>[^/]+)$")


@dataclass
class ShopState:
    """Hold tokens, carts and orders shared by all request threads."""

    latency_s: float = 0.0
    tokens: dict[str, str] = field(default_factory=dict)
    carts: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


Reply = tuple[int, dict[str, Any] | None, dict[str, str]]


class DemoShopHandler(BaseHTTPRequestHandler):
    """Serve the demo-shop API with keep-alive so clients can reuse connections."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every response.
    disable_nagle_algorithm = True
    server: DemoShopServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and benchmarks read their own output, not the access log."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == STATS_PATH:
            self._send((200, {"requests": self.server.state.requests_seen}, {}))
            return
        self._send(answer(self.server.state, method, self.path, raw, self.headers))

    def _send(self, reply: Reply) -> None:
        status, payload, headers = reply
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def answer(state: ShopState, method: str, target: str, raw: bytes, headers: Any) -> Reply:
    """Answer one request (target = path and query); also used without a socket by bench/."""
    with state.lock:
        state.requests_seen += 1
    if state.latency_s:
        time.sleep(state.latency_s)
    path = target.split("?", 1)[0]
    if not path.startswith(API_PREFIX):
        return 404, {"error": "not found"}, {}
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return 400, {"error": "request body must be JSON"}, {}
    return _route(state, method, path[len(API_PREFIX) :], body, headers)


def _route(state: ShopState, method: str, path: str, body: dict[str, Any], headers: Any) -> Reply:
    if method == "POST" and path == "/login":
        return _login(state, body)
    if method == "GET" and path == "/products":
        return 200, {"products": list(PRODUCTS.values())}, {}
    customer = _customer(state, headers.get("Authorization", ""))
    if customer is None:
        return 401, {"error": "missing or invalid bearer token"}, {}
    if method == "POST" and path == "/carts":
        return _create_cart(state, customer)
    with state.lock:
        if method == "POST" and (match := _CART_ITEMS.match(path)):
            return _add_item(state, customer, match["cart"], body)
        if method == "POST" and (match := _CART_CHECKOUT.match(path)):
            return _checkout(state, customer, match["cart"])
        if method == "DELETE" and (match := _CART.match(path)):
            if _owned(state.carts, match["cart"], customer) is None:
                return _not_found("cart", match["cart"])
            del state.carts[match["cart"]]
            return 204, None, {}
        if method == "GET" and (match := _ORDER.match(path)):
            order = _owned(state.orders, match["order"], customer)
            return (200, _public(order), {}) if order else _not_found("order", match["order"])
    return 404, {"error": "not found"}, {}


def _owned(records: dict[str, dict[str, Any]], ident: str, customer: str) -> dict[str, Any] | None:
    # Another customer's cart or order is as invisible as one that never existed.
    record = records.get(ident)
    return record if record is not None and record["owner"] == customer else None


def _not_found(kind: str, ident: str) -> Reply:
    return 404, {"error": f"{kind} {ident} not found"}, {}


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "owner"}


def _login(state: ShopState, body: dict[str, Any]) -> Reply:
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not email or not isinstance(password, str) or not password:
        return 401, {"error": "invalid credentials"}, {}
    token = "tok_" + secrets.token_hex(16)
    with state.lock:
        state.tokens[token] = email
    cookie = f"shop_session={secrets.token_hex(8)}; Path=/; HttpOnly"
    return 200, {"token": token, "user": {"email": body.get("email")}}, {"Set-Cookie": cookie}


def _customer(state: ShopState, header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    with state.lock:
        return state.tokens.get(token.strip())


def _create_cart(state: ShopState, customer: str) -> Reply:
    cart = {"id": "cart_" + secrets.token_hex(8), "owner": customer, "items": [], "total": 0}
    with state.lock:
        state.carts[cart["id"]] = cart
    return 201, _public(cart), {}


def _add_item(state: ShopState, customer: str, cart_id: str, body: dict[str, Any]) -> Reply:
    cart = _owned(state.carts, cart_id, customer)
    if cart is None:
        return _not_found("cart", cart_id)
    sku, quantity = body.get("sku"), body.get("quantity", 1)
    product = PRODUCTS.get(sku) if isinstance(sku, str) else None
    if product is None:
        return 422, {"error": f"unknown sku {sku!r}; known: {', '.join(PRODUCTS)}"}, {}
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        return 422, {"error": "quantity must be a positive integer"}, {}
    cart["items"].append({"sku": sku, "quantity": quantity, "price": product["price"]})
    cart["total"] = round(sum(i["price"] * i["quantity"] for i in cart["items"]), 2)
    return 201, _public(cart), {}


def _checkout(state: ShopState, customer: str, cart_id: str) -> Reply:
    cart = _owned(state.carts, cart_id, customer)
    if cart is None:
        return _not_found("cart", cart_id)
    if not cart["items"]:
        return 409, {"error": "cart is empty"}, {}
    order_id = "ord_" + secrets.token_hex(8)
    state.orders[order_id] = {
        "id": order_id,
        "owner": customer,
        "status": "paid",
        "items": list(cart["items"]),
        "total": cart["total"],
    }
    return 201, {"order_id": order_id, "status": "paid", "total": cart["total"]}, {}


class DemoShopServer(LoopbackServer):
    """The loopback server carrying the shop state."""

    def __init__(self, port: int = 0, *, latency_ms: float = 0) -> None:
        super().__init__(DemoShopHandler, port)
        self.state = ShopState(latency_s=latency_ms / 1000)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{API_PREFIX}"


@contextmanager
def running_demo_shop(*, latency_ms: float = 0) -> Iterator[DemoShopServer]:
    """Serve the demo shop on a free loopback port in a background thread."""
    with serving(DemoShopServer(latency_ms=latency_ms)) as server:
        yield server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0)
    args = parser.parse_args()
    server = DemoShopServer(args.port, latency_ms=args.latency_ms)
    # The parent process reads this line to learn the port.
    print(server.base_url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
