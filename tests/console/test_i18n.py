from __future__ import annotations


def test_pages_follow_accept_language_and_the_switcher(client, alice):
    page = client.get("/login", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page and "登录" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login"})
    assert '<html lang="en">' in client.get("/login", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


def test_form_errors_come_in_the_users_language(client, db):
    response = client.post(
        "/register",
        {"username": "", "password": "aaaaaaaa", "password2": "bbbbbbbb"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    page = response.content.decode()
    assert "两次输入的密码不一致。" in page.split('id="field-password2"')[1].split("</div>")[0]
    assert "必填项" in page.split('id="field-username"')[1].split("</div>")[0]


def test_the_console_pages_are_translated(as_admin):
    page = as_admin.get("/channel", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    for text in ("渠道", "令牌", "数据看板", "测试所有渠道", "退出"):
        assert text in page
