//! The pages of issue 18 without JavaScript: registering through an
//! invitation link, and setting a password through a reset link; a bad link
//! shows its message in the form.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, new_client, spawn_app_with};
use crate::pages::{field_error, form_action};

/// Posts the form of `page` (whose action starts with `action`) with
/// `fields`, as a browser without JavaScript; the `Location` it answers.
async fn post_form(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> String {
    let url = app.url(page);
    let html = browser.get(&url).send().await.expect("sent").text().await.expect("html");
    let action = form_action(&html, action);
    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .header("Referer", &url)
        .form(fields)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().expect("location").to_owned()
}

#[tokio::test]
async fn the_registration_form_takes_the_invitation_from_its_link_and_shows_a_bad_links_message() {
    let app = spawn_app_with(|config| config.sign_up_policy = None).await;
    let admin = app.user("root").await;
    let made: Value = admin
        .client
        .post(app.url("/admin/invitations"))
        .json(&json!({}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let path = made["path"].as_str().expect("path");

    let browser = new_client();
    let token = made["token"].as_str().expect("token");
    let fields = |invitation| {
        [
            ("email", "eve@example.com"),
            ("username", "eve"),
            ("password", PASSWORD),
            ("name", ""),
            ("next", ""),
            // What the page's hidden field holds (checked below).
            ("invitation", invitation),
        ]
    };
    let bad = post_form(&app, &browser, "/register?invitation=0badc0de", "/fn/register", &fields("0badc0de")).await;
    let page = browser.get(bad).send().await.expect("sent").text().await.expect("html");
    assert_eq!(field_error(&page, "invitation"), "This invitation link is invalid, expired or used up");

    let browser = new_client();
    let html = browser.get(app.url(path)).send().await.expect("sent").text().await.expect("html");
    assert!(html.contains(&format!(r#"name="invitation" value="{token}""#)), "{html}");
    let good = post_form(&app, &browser, path, "/fn/register", &fields(token)).await;
    assert_eq!(good, "/");
    assert_eq!(app.me(&browser).await.status(), 200, "registered and signed in");
}

#[tokio::test]
async fn the_reset_page_is_public_sets_the_password_and_shows_a_bad_links_message() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let link: Value = admin
        .client
        .post(app.url(&format!("/admin/users/{}/reset_link", member.id)))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let path = link["path"].as_str().expect("path");

    let browser = new_client();
    let page = browser.get(app.url(path)).send().await.expect("sent");
    assert_eq!(page.status(), 200, "no sign-in needed");
    let bad = post_form(
        &app,
        &browser,
        "/reset-password?token=nope",
        "/fn/reset_password",
        &[("token", "nope"), ("password", "a brand new secret")],
    )
    .await;
    let page = browser.get(bad).send().await.expect("sent").text().await.expect("html");
    assert_eq!(field_error(&page, "token"), "This reset link is invalid, expired or already used");

    let token = link["token"].as_str().expect("token");
    let done =
        post_form(&app, &browser, path, "/fn/reset_password", &[("token", token), ("password", "a brand new secret")])
            .await;
    assert_eq!(done, "/login");
    assert_eq!(app.sign_in_with(&new_client(), "member", "a brand new secret").await.status(), 200);
}

#[tokio::test]
async fn the_admin_page_says_when_its_account_list_is_cut_short() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.user("root").await;
    let page = |client: reqwest::Client, url: String| async move {
        client.get(url).header("Accept", "text/html").send().await.expect("sent").text().await.expect("html")
    };
    let few = page(admin.client.clone(), app.url("/admin")).await;
    assert!(few.contains("@root") && !few.contains("users-cut"), "a short list is whole");

    // 200 more accounts than the page lists at once (no password: made in SQL).
    let made = app
        .execute_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
             INSERT INTO users (username, email, password_hash)
             SELECT 'bulk' || CAST(i AS TEXT), 'bulk' || CAST(i AS TEXT) || '@example.com', 'x' FROM n",
            &[],
        )
        .await;
    assert_eq!(made, 200);
    let many = page(admin.client.clone(), app.url("/admin")).await;
    let searched = page(admin.client.clone(), app.url("/admin?q=root")).await;

    assert!(many.contains("users-cut") && many.contains("search to find the others"), "the cut is said");
    assert!(searched.contains("@root") && !searched.contains("users-cut"), "a search that finds few lists them all");
}
