"""The demo shop's domain: products, carts and orders kept in a cache for an hour.

The demo shop is a target API for the sample journeys, not part of Reqflo itself, so it keeps no
database tables: tokens are signed, and carts and orders live in the ``demo`` cache (files
under var/, shared by every web worker process).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.cache import caches

PRODUCTS: dict[str, dict[str, Any]] = {
    "tea-01": {"sku": "tea-01", "name": "Sencha green tea", "price": 4.5},
    "mug-02": {"sku": "mug-02", "name": "Stoneware mug", "price": 12.0},
    "pot-03": {"sku": "pot-03", "name": "Cast iron teapot", "price": 39.9},
}
TOKEN_SALT = "reqflo.demo.token"
TOKEN_MAX_AGE = 3600
STATE_TTL = 3600


class ShopError(Exception):
    """A request the shop refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Customer:
    email: str


def _cache() -> Any:
    return caches["demo"]


def login(email: str, password: str) -> str:
    """Return a signed bearer token for any email with a non-empty password."""
    if not email or not password:
        raise ShopError(401, "invalid credentials")
    return signing.dumps({"email": email}, salt=TOKEN_SALT)


def customer_from_token(token: str) -> Customer:
    """Return the customer a bearer token belongs to."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise ShopError(401, "missing or invalid bearer token") from None
    return Customer(email=data["email"])


def _key(kind: str, ident: str) -> str:
    return f"demo-shop:{kind}:{ident}"


def _load(kind: str, ident: str, customer: Customer) -> dict[str, Any]:
    record = _cache().get(_key(kind, ident))
    # Another customer's cart or order is as invisible as one that never existed.
    if record is None or record["owner"] != customer.email:
        raise ShopError(404, f"{kind} {ident} not found")
    loaded: dict[str, Any] = record
    return loaded


def _save(kind: str, record: dict[str, Any]) -> None:
    _cache().set(_key(kind, record["id"]), record, STATE_TTL)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "owner"}


def cart_create(customer: Customer) -> dict[str, Any]:
    cart = {"id": f"cart_{secrets.token_hex(8)}", "owner": customer.email, "items": [], "total": 0}
    _save("cart", cart)
    return _public(cart)


def cart_add_item(customer: Customer, cart_id: str, sku: Any, quantity: Any) -> dict[str, Any]:
    cart = _load("cart", cart_id, customer)
    product = PRODUCTS.get(sku) if isinstance(sku, str) else None
    if product is None:
        raise ShopError(422, f"unknown sku {sku!r}; known: {', '.join(PRODUCTS)}")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ShopError(422, "quantity must be a positive integer")
    cart["items"].append({"sku": sku, "quantity": quantity, "price": product["price"]})
    cart["total"] = round(sum(i["price"] * i["quantity"] for i in cart["items"]), 2)
    _save("cart", cart)
    return _public(cart)


def cart_checkout(customer: Customer, cart_id: str) -> dict[str, Any]:
    cart = _load("cart", cart_id, customer)
    if not cart["items"]:
        raise ShopError(409, "cart is empty")
    order = {
        "id": f"ord_{secrets.token_hex(8)}",
        "owner": customer.email,
        "status": "paid",
        "items": cart["items"],
        "total": cart["total"],
    }
    _save("order", order)
    return {"order_id": order["id"], "status": order["status"], "total": order["total"]}


def cart_delete(customer: Customer, cart_id: str) -> None:
    _load("cart", cart_id, customer)
    _cache().delete(_key("cart", cart_id))


def order_get(customer: Customer, order_id: str) -> dict[str, Any]:
    return _public(_load("order", order_id, customer))
