from __future__ import annotations

import json

from config.options import option_json, option_set


def test_admins_read_prices_and_only_root_saves_ratios(as_alice, as_admin, as_root):
    assert as_alice.get("/ratio").status_code == 403
    page = as_admin.get("/ratio?q=gpt-4o-mini").content.decode()
    assert "gpt-4o-mini" in page and "Only root can change ratios." in page
    data = {
        "ModelRatio": '{"my-model": 2}',
        "CompletionRatio": "{}",
        "GroupRatio": '{"default": 1, "vip": 0.5}',
    }
    assert as_admin.post("/ratio", data).status_code == 403
    assert as_root.post("/ratio", data).status_code == 302
    assert option_json("ModelRatio") == {"my-model": 2} and option_json("GroupRatio")["vip"] == 0.5


def test_the_effective_price_follows_the_group(as_root):
    option_set("ModelRatio", json.dumps({"my-model": 2}))
    option_set("CompletionRatio", json.dumps({"my-model": 3}))
    option_set("GroupRatio", json.dumps({"default": 1, "vip": 0.5}))
    rows = as_root.get("/ratio?q=my-model&group=vip").context["rows"]
    row = next(r for r in rows if r["model"] == "my-model")
    assert row["prompt_usd"] == 2 * 0.5 * 0.002 and row["completion_usd"] == 2 * 0.5 * 0.002 * 3


def test_bad_ratio_json_is_reported_next_to_its_field(as_root):
    data = {"ModelRatio": '{"a": -1}', "CompletionRatio": "[1]", "GroupRatio": "{oops"}
    page = as_root.post("/ratio", data).content.decode()
    for field, message in (
        ("ModelRatio", "a: the ratio must be a number ≥ 0."),
        ("CompletionRatio", "Use a JSON object"),
        ("GroupRatio", "Not valid JSON"),
    ):
        assert message in page.split(f'id="field-{field}"')[1].split("</div>")[0], field


def test_about_renders_markdown_or_a_frame(client, db):
    option_set("About", "# Hello\n\n*world*")
    page = client.get("/about").content.decode()
    assert "<h1>Hello</h1>" in page and "<em>world</em>" in page
    option_set("About", "https://example.com/about")
    assert (
        '<iframe class="home-frame" src="https://example.com/about"' in client.get("/about").content.decode()
    )


def test_home_content_markdown_notice_and_footer(client, db):
    option_set("HomePageContent", "**Welcome**")
    option_set("Notice", "Maintenance *tonight*")
    option_set("Footer", '<a href="https://example.com">Footer link</a>')
    page = client.get("/").content.decode()
    assert "<strong>Welcome</strong>" in page and "<em>tonight</em>" in page
    assert '<a href="https://example.com">Footer link</a>' in page


def test_chat_frames_the_chat_link(as_alice):
    assert "No chat page is configured" in as_alice.get("/chat").content.decode()
    option_set("ChatLink", "https://chat.example.com/")
    page = as_alice.get("/chat").content.decode()
    assert 'src="https://chat.example.com/"' in page and 'href="/chat"' in page


def test_chat_ignores_a_javascript_link(as_alice):
    option_set("ChatLink", "javascript:alert(1)")
    assert "javascript:alert(1)" not in as_alice.get("/chat").content.decode().split("<main>")[1]
