"""The demo shop target API behaves as the sample journeys expect (see examples/)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse


def _login(client: Client, email: str = "shopper@demo.test") -> str:
    response = client.post(
        reverse("demo:login"), {"email": email, "password": "pw"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert "shop_session" in response.cookies
    return str(response.json()["token"])


def _auth(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_checkout_journey_from_login_to_paid_order(client: Client) -> None:
    token = _login(client)
    cart = client.post(reverse("demo:carts"), **_auth(token))
    assert cart.status_code == 201
    cart_id = cart.json()["id"]
    added = client.post(
        reverse("demo:cart_items", args=[cart_id]),
        {"sku": "mug-02", "quantity": 2},
        content_type="application/json",
        **_auth(token),
    )
    assert added.status_code == 201
    assert added.json()["total"] == 24.0
    checkout = client.post(reverse("demo:cart_checkout", args=[cart_id]), **_auth(token))
    assert checkout.status_code == 201
    order_id = checkout.json()["order_id"]
    order = client.get(reverse("demo:order", args=[order_id]), **_auth(token))
    assert order.json() == {
        "id": order_id,
        "status": "paid",
        "items": [{"sku": "mug-02", "quantity": 2, "price": 12.0}],
        "total": 24.0,
    }
    deleted = client.delete(reverse("demo:cart", args=[cart_id]), **_auth(token))
    assert deleted.status_code == 204


def test_login_without_password_is_refused(client: Client) -> None:
    response = client.post(
        reverse("demo:login"), {"email": "a@b.test"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid credentials"}


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc"])
def test_cart_endpoints_need_a_valid_bearer_token(client: Client, header: str | None) -> None:
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(reverse("demo:carts"), **extra)
    assert response.status_code == 401


def test_another_customers_cart_is_not_found(client: Client) -> None:
    cart_id = client.post(reverse("demo:carts"), **_auth(_login(client))).json()["id"]
    other = _login(client, "someone-else@demo.test")
    response = client.post(reverse("demo:cart_checkout", args=[cart_id]), **_auth(other))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"sku": "nope", "quantity": 1}, 422, "unknown sku 'nope'"),
        ({"sku": "tea-01", "quantity": 0}, 422, "quantity must be a positive integer"),
        ([1, 2], 400, "request body must be a JSON object"),
    ],
)
def test_bad_items_get_a_clear_json_error(
    client: Client, body: Any, status: int, message: str
) -> None:
    token = _login(client)
    cart_id = client.post(reverse("demo:carts"), **_auth(token)).json()["id"]
    response = client.post(
        reverse("demo:cart_items", args=[cart_id]),
        body,
        content_type="application/json",
        **_auth(token),
    )
    assert response.status_code == status
    assert message in response.json()["error"]


def test_checkout_of_an_empty_cart_conflicts(client: Client) -> None:
    token = _login(client)
    cart_id = client.post(reverse("demo:carts"), **_auth(token)).json()["id"]
    response = client.post(reverse("demo:cart_checkout", args=[cart_id]), **_auth(token))
    assert response.status_code == 409


def test_products_list_the_known_skus(client: Client) -> None:
    skus = [p["sku"] for p in client.get(reverse("demo:products")).json()["products"]]
    assert skus == ["tea-01", "mug-02", "pot-03"]
