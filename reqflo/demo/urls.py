"""Demo shop routes, mounted under /demo-shop/api/ only when REQFLO_DEMO_TARGET is on."""

from __future__ import annotations

from django.urls import path

from reqflo.demo import views

app_name = "demo"

urlpatterns = [
    path("login", views.login, name="login"),
    path("products", views.products, name="products"),
    path("carts", views.carts, name="carts"),
    path("carts/<str:cart_id>", views.cart, name="cart"),
    path("carts/<str:cart_id>/items", views.cart_items, name="cart_items"),
    path("carts/<str:cart_id>/checkout", views.cart_checkout, name="cart_checkout"),
    path("orders/<str:order_id>", views.order, name="order"),
]
