from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("otp/", views.otp_setup, name="otp_setup"),
    path("lockouts/", views.lockouts, name="lockouts"),
]
