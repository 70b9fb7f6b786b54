"""JSON endpoints of the demo shop (see reqflo/demo/shop.py)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from reqflo.demo import shop

Handler = Callable[..., HttpResponse]


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise shop.ShopError(400, "request body must be JSON") from None
    if not isinstance(data, dict):
        raise shop.ShopError(400, "request body must be a JSON object")
    return data


def _customer(request: HttpRequest) -> shop.Customer:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise shop.ShopError(401, "missing or invalid bearer token")
    return shop.customer_from_token(token.strip())


def shop_endpoint(view: Handler) -> Handler:
    """Turn ShopError into a JSON error response; the demo API has no CSRF (it is a token API)."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except shop.ShopError as error:
            return JsonResponse({"error": error.message}, status=error.status)

    return wrapper


@shop_endpoint
@require_http_methods(["POST"])
def login(request: HttpRequest) -> HttpResponse:
    data = _json_body(request)
    email, password = data.get("email"), data.get("password")
    token = shop.login(
        email if isinstance(email, str) else "", password if isinstance(password, str) else ""
    )
    response = JsonResponse({"token": token, "user": {"email": email}})
    response.set_cookie("shop_session", secrets.token_hex(8), httponly=True, samesite="Lax")
    return response


@shop_endpoint
@require_http_methods(["GET"])
def products(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"products": list(shop.PRODUCTS.values())})


@shop_endpoint
@require_http_methods(["POST"])
def carts(request: HttpRequest) -> HttpResponse:
    return JsonResponse(shop.cart_create(_customer(request)), status=201)


@shop_endpoint
@require_http_methods(["DELETE"])
def cart(request: HttpRequest, cart_id: str) -> HttpResponse:
    shop.cart_delete(_customer(request), cart_id)
    return HttpResponse(status=204)


@shop_endpoint
@require_http_methods(["POST"])
def cart_items(request: HttpRequest, cart_id: str) -> HttpResponse:
    customer = _customer(request)
    data = _json_body(request)
    cart = shop.cart_add_item(customer, cart_id, data.get("sku"), data.get("quantity", 1))
    return JsonResponse(cart, status=201)


@shop_endpoint
@require_http_methods(["POST"])
def cart_checkout(request: HttpRequest, cart_id: str) -> HttpResponse:
    return JsonResponse(shop.cart_checkout(_customer(request), cart_id), status=201)


@shop_endpoint
@require_http_methods(["GET"])
def order(request: HttpRequest, order_id: str) -> HttpResponse:
    return JsonResponse(shop.order_get(_customer(request), order_id))
