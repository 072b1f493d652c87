//! Rich messages (issue 16): Markdown rendered by the server, reactions and
//! replies over REST and the WebSocket, and resume replaying them (with pins)
//! so that a socket's view ends at what a fresh page load shows.

use std::collections::BTreeMap;
use std::time::Duration;

use hearth::model::{Message, Pin, Reaction, ReplyTo};
use hearth::protocol::ServerEvent;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::{Value, json};

use crate::helpers::{SqlArg, TestApp, assert_error, spawn_app};
use crate::ws_support::{Next, Person, QUIET, Ws, connect, person};

fn message(value: Value) -> Message {
    serde_json::from_value(value).expect("a message")
}

async fn react(app: &TestApp, client: &Client, room: i64, number: i64, emoji: &str) -> reqwest::Response {
    let url = app.url(&format!("/conversations/{room}/messages/{number}/reactions"));
    client.post(url).json(&json!({ "emoji": emoji })).send().await.expect("sent")
}

fn emoji_path(app: &TestApp, room: i64, number: i64, emoji: &str) -> String {
    let mut url =
        reqwest::Url::parse(&app.url(&format!("/conversations/{room}/messages/{number}/reactions"))).expect("a url");
    url.path_segments_mut().expect("a base").push(emoji);
    url.to_string()
}

async fn reactions_of(app: &TestApp, client: &Client, room: i64, number: i64) -> Vec<Reaction> {
    let page = app.history(client, room, &format!("around={number}&limit=1")).await;
    let found = page["messages"].as_array().expect("messages").iter().find(|m| m["number"] == number).cloned();
    message(found.expect("the message")).reactions
}

async fn one_message(app: &TestApp, client: &Client, room: i64, number: i64) -> Message {
    let page = app.history(client, room, &format!("around={number}&limit=1")).await;
    let found = page["messages"].as_array().expect("messages").iter().find(|m| m["number"] == number).cloned();
    message(found.expect("the message"))
}

#[tokio::test]
async fn a_message_carries_its_markdown_rendered_and_sanitised_in_every_read() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, Some(app.last_seq(&bob.client, room).await)).await;

    let source = "**bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n```rust\nfn main() {}\n```";
    let sent = message(app.send(&alice.client, room, source).await);

    let html = sent.html.clone().expect("html");
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
    assert!(html.contains("<pre data-lang=\"rust\"><code><span class=\"hl-k\">fn</span> main()"), "{html}");
    assert_eq!(sent.body.as_deref(), Some(source), "the source is kept");
    // Live, in history and after an edit: the same renderer.
    match ws.next_change().await {
        ServerEvent::Message { message, .. } => assert_eq!(message.html.as_deref(), Some(html.as_str())),
        other => panic!("{other:?}"),
    }
    assert_eq!(one_message(&app, &bob.client, room, sent.number).await.html.as_deref(), Some(html.as_str()));
    let url = app.url(&format!("/conversations/{room}/messages/{}", sent.number));
    let edited = alice.client.patch(url).json(&json!({ "body": "_now_ 2 * 3" })).send().await.expect("sent");
    let edited = message(edited.json().await.expect("json"));
    assert_eq!(edited.html.as_deref(), Some("<p><em>now</em> 2 * 3</p>\n"));
    assert_eq!(edited.body.as_deref(), Some("_now_ 2 * 3"), "an edit shows the source");
    match ws.next_change().await {
        ServerEvent::MessageEdited { message, .. } => assert_eq!(message.html, edited.html),
        other => panic!("{other:?}"),
    }
    // A deleted message has neither text nor HTML.
    let url = app.url(&format!("/conversations/{room}/messages/{}", sent.number));
    assert_eq!(alice.client.delete(url).send().await.expect("sent").status(), 204);
    let deleted = one_message(&app, &bob.client, room, sent.number).await;
    assert_eq!((deleted.body, deleted.html), (None, None));
}

#[tokio::test]
async fn reactions_toggle_per_person_over_rest_with_counts_and_who() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let number = message(app.send(&alice.client, room, "react to me").await).number;
    let seq = app.last_seq(&alice.client, room).await;

    let on: Value = react(&app, &bob.client, room, number, "👍").await.json().await.expect("json");
    assert_eq!(on["reactions"][0]["emoji"], "👍");
    assert_eq!(on["reactions"][0]["count"], 1);
    assert_eq!(on["reactions"][0]["users"][0]["username"], "bob");
    let both: Value = react(&app, &alice.client, room, number, "👍").await.json().await.expect("json");
    assert_eq!(both["reactions"][0]["count"], 2);
    react(&app, &alice.client, room, number, "🎉").await;
    let reactions = reactions_of(&app, &alice.client, room, number).await;
    assert_eq!(reactions.iter().map(|r| (r.emoji.as_str(), r.count)).collect::<Vec<_>>(), [("👍", 2), ("🎉", 1)]);
    assert_eq!(reactions[0].label(), "bob Example, alice Example reacted with 👍");
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 3, "each change takes a seq");

    // Toggling again takes it off; PUT and DELETE say what they want, and
    // asking for what is already so changes nothing.
    let off: Value = react(&app, &bob.client, room, number, "👍").await.json().await.expect("json");
    assert_eq!(off["reactions"][0]["count"], 1);
    let put = bob.client.put(emoji_path(&app, room, number, "🎉")).send().await.expect("sent");
    assert_eq!(put.status(), 200);
    let again = bob.client.put(emoji_path(&app, room, number, "🎉")).send().await.expect("sent");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["reactions"][1]["count"], 2);
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 5, "a PUT of what is there takes no seq");
    let delete = bob.client.delete(emoji_path(&app, room, number, "🎉")).send().await.expect("sent");
    assert_eq!(delete.status(), 200);
    let delete = bob.client.delete(emoji_path(&app, room, number, "🎉")).send().await.expect("sent");
    assert_eq!(delete.status(), 200);
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 6);
    let reactions = reactions_of(&app, &bob.client, room, number).await;
    assert_eq!(reactions.iter().map(|r| (r.emoji.as_str(), r.count)).collect::<Vec<_>>(), [("👍", 1), ("🎉", 1)]);
}

#[tokio::test]
async fn a_reaction_needs_one_emoji_a_live_message_and_membership() {
    let app = spawn_app().await;
    let (alice, bob, eve) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "eve").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let number = message(app.send(&alice.client, room, "hi").await).number;
    for bad in ["", "thumbsup", "<b>", "👍 👍", "Привет", "\u{200b}", "\u{202e}", "😀😀😀"] {
        let errors = assert_error(react(&app, &bob.client, room, number, bad).await, 422).await;
        assert!(errors["errors"][0].as_str().is_some_and(|e| e.contains("Emoji")), "{bad:?}: {errors}");
    }
    assert!(reactions_of(&app, &alice.client, room, number).await.is_empty(), "nothing refused was kept");
    // An emoji without its selector is one too, kept fully qualified, and
    // taken off by the form sent.
    let heart: Value = react(&app, &bob.client, room, number, "❤").await.json().await.expect("json");
    assert_eq!(heart["reactions"][0]["emoji"], "❤\u{fe0f}");
    let off: Value = react(&app, &bob.client, room, number, "❤").await.json().await.expect("json");
    assert_eq!(off["reactions"], json!([]));
    assert_error(react(&app, &bob.client, room, 999, "👍").await, 404).await;
    let refused = react(&app, &eve.client, room, number, "👍").await.status().as_u16();
    assert!(refused == 403 || refused == 404, "a non-member: {refused}");
    let url = app.url(&format!("/conversations/{room}/messages/{number}"));
    assert_eq!(alice.client.delete(url).send().await.expect("sent").status(), 204);
    assert_error(react(&app, &bob.client, room, number, "👍").await, 404).await;
    let anonymous = reqwest::Client::new();
    assert_eq!(react(&app, &anonymous, room, number, "👍").await.status(), 401);
}

#[tokio::test]
async fn a_reaction_saved_before_the_emoji_list_can_be_taken_off_but_not_put_on() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let number = message(app.send(&alice.client, room, "hi").await).number;
    // What the first reactions API let through: any short text.
    for (old, user) in [("+1", bob.id), (":tada:", bob.id), ("+1", alice.id)] {
        let saved = app
            .execute_sql(
                "INSERT INTO reactions (room_id, number, emoji, user_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    SqlArg::Int(room),
                    SqlArg::Int(number),
                    SqlArg::Text(old.into()),
                    SqlArg::Int(user),
                    SqlArg::Text("2026-11-01T00:00:00.000000Z".into()),
                ],
            )
            .await;
        assert_eq!(saved, 1);
    }
    let seq = app.last_seq(&alice.client, room).await;
    let shown = |reactions: Vec<Reaction>| reactions.iter().map(|r| (r.emoji.clone(), r.count)).collect::<Vec<_>>();
    assert_eq!(shown(reactions_of(&app, &bob.client, room, number).await), [("+1".into(), 2), (":tada:".into(), 1)]);

    // Not put on again, by a PUT or by someone who has none.
    assert_error(bob.client.put(emoji_path(&app, room, number, "+1")).send().await.expect("sent"), 422).await;
    assert_error(react(&app, &bob.client, room, number, "-1").await, 422).await;
    assert_eq!(app.last_seq(&alice.client, room).await, seq, "nothing refused took a seq");

    // Taken off by a DELETE and by a toggle, each a change with a seq.
    let delete = bob.client.delete(emoji_path(&app, room, number, "+1")).send().await.expect("sent");
    assert_eq!(delete.status(), 200);
    let toggled: Value = react(&app, &bob.client, room, number, " :tada: ").await.json().await.expect("json");
    assert_eq!(toggled["reactions"][0]["emoji"], "+1");
    assert_eq!(toggled["reactions"][0]["count"], 1, "alice's is hers to take off");
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 2);
    // Once off, a toggle of it is refused like any other word.
    assert_error(react(&app, &bob.client, room, number, "+1").await, 422).await;
    let delete = alice.client.delete(emoji_path(&app, room, number, "+1")).send().await.expect("sent");
    assert_eq!(delete.status(), 200);
    assert!(reactions_of(&app, &alice.client, room, number).await.is_empty());
    assert_error(react(&app, &bob.client, room, 999, "+1").await, 422).await;
}

#[tokio::test]
async fn an_emoji_with_or_without_its_variation_selector_is_one_reaction() {
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let number = message(app.send(&alice.client, room, "hi").await).number;
    let heart = "\u{2764}\u{fe0f}";
    let shown = |reactions: Vec<Reaction>| reactions.iter().map(|r| (r.emoji.clone(), r.count)).collect::<Vec<_>>();

    assert_eq!(react(&app, &alice.client, room, number, "\u{2764}").await.status(), 200);
    assert_eq!(react(&app, &bob.client, room, number, heart).await.status(), 200);
    assert_eq!(shown(reactions_of(&app, &bob.client, room, number).await), [(heart.to_owned(), 2)]);
    // Taken off by either form, as the picker or an old client sends it.
    let delete = alice.client.delete(emoji_path(&app, room, number, heart)).send().await.expect("sent");
    assert_eq!(delete.status(), 200);
    assert_eq!(react(&app, &bob.client, room, number, "\u{2764}").await.status(), 200);
    assert!(reactions_of(&app, &bob.client, room, number).await.is_empty());

    // One saved as it was sent, before reactions were kept in one form, is
    // still carol's to take off by what its chip shows.
    let saved = app
        .execute_sql(
            "INSERT INTO reactions (room_id, number, emoji, user_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                SqlArg::Int(room),
                SqlArg::Int(number),
                SqlArg::Text("\u{2764}".into()),
                SqlArg::Int(carol.id),
                SqlArg::Text("2026-11-01T00:00:00.000000Z".into()),
            ],
        )
        .await;
    assert_eq!(saved, 1);
    let seq = app.last_seq(&alice.client, room).await;
    assert_eq!(react(&app, &carol.client, room, number, "\u{2764}").await.status(), 200);
    assert!(reactions_of(&app, &carol.client, room, number).await.is_empty(), "the toggle took the old one off");
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 1);
    // And put on again, it is the one form.
    let put = carol.client.put(emoji_path(&app, room, number, "\u{2764}")).send().await.expect("sent");
    assert_eq!(put.status(), 200);
    assert_eq!(shown(reactions_of(&app, &alice.client, room, number).await), [(heart.to_owned(), 1)]);
}

#[tokio::test]
async fn a_reaction_sent_over_the_websocket_reaches_every_member_live_with_a_seq() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let number = message(app.send(&alice.client, room, "hello").await).number;
    let seq = app.last_seq(&alice.client, room).await;
    let (mut alice_ws, mut bob_ws) = (connect(&app, &alice).await, connect(&app, &bob).await);
    alice_ws.subscribe(room, Some(seq)).await;
    bob_ws.subscribe(room, Some(seq)).await;

    bob_ws.send_json(json!({ "type": "react", "room_id": room, "number": number, "emoji": "❤️" })).await;

    for ws in [&mut alice_ws, &mut bob_ws] {
        match ws.next_change().await {
            ServerEvent::Reacted { seq: got, number: n, reactions, .. } => {
                assert_eq!((got, n), (seq + 1, number));
                assert_eq!(reactions.len(), 1);
                assert_eq!((reactions[0].emoji.as_str(), reactions[0].count), ("❤️", 1));
                assert_eq!(reactions[0].users[0].username, "bob");
            }
            other => panic!("{other:?}"),
        }
    }
    // A bad one is an error frame to the sender only.
    bob_ws.send_json(json!({ "type": "react", "room_id": room, "number": number, "emoji": "nope" })).await;
    match bob_ws.next_skipping_presence().await {
        ServerEvent::Error { code, .. } => assert_eq!(code, "invalid"),
        other => panic!("{other:?}"),
    }
    alice_ws.assert_quiet(QUIET, "alice").await;
    // Toggled off over the socket too.
    bob_ws.send_json(json!({ "type": "react", "room_id": room, "number": number, "emoji": "❤️" })).await;
    match alice_ws.next_change().await {
        ServerEvent::Reacted { reactions, .. } => assert!(reactions.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_quote_shows_the_text_of_its_original_without_the_markdown() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let original = message(app.send(&alice.client, room, "Meet at the **café**,\n`10:00`").await).number;

    let response = app.post_message(&bob.client, room, json!({ "body": "ok", "reply_to": original })).await;

    assert_eq!(response.status(), 201);
    let reply = message(response.json().await.expect("json"));
    assert_eq!(reply.reply_to.and_then(|q| q.snippet).as_deref(), Some("Meet at the café, 10:00"));
    let page = app.history(&bob.client, room, "").await;
    let loaded = page["messages"].as_array().expect("messages").iter().find(|m| m["number"] == reply.number);
    assert_eq!(loaded.expect("the reply")["reply_to"]["snippet"], "Meet at the café, 10:00", "on a page load too");
}

#[tokio::test]
async fn a_reply_quotes_its_original_which_counts_its_replies_over_rest_and_the_websocket() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let original = message(app.send(&alice.client, room, "Where   shall we\nmeet?").await).number;
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, Some(app.last_seq(&alice.client, room).await)).await;

    let response = app.post_message(&bob.client, room, json!({ "body": "At the *café*", "reply_to": original })).await;
    assert_eq!(response.status(), 201);
    let reply = message(response.json().await.expect("json"));
    let quote = reply.reply_to.clone().expect("a quote");
    assert_eq!(quote.number, original);
    assert_eq!(quote.snippet.as_deref(), Some("Where shall we meet?"));
    assert_eq!(quote.user.as_ref().map(|u| u.username.as_str()), Some("alice"));
    assert_eq!(quote.reply_count, 1);
    match alice_ws.next_change().await {
        ServerEvent::Message { message, .. } => assert_eq!(message.reply_to, Some(quote.clone())),
        other => panic!("{other:?}"),
    }
    // A reply over the socket.
    let client_id = "r2";
    alice_ws
        .send_json(
            json!({ "type": "send", "room_id": room, "body": "me too", "client_id": client_id, "reply_to": original }),
        )
        .await;
    let second = match alice_ws.next_change().await {
        ServerEvent::Message { message, .. } => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(second.reply_to.as_ref().map(|q| (q.number, q.reply_count)), Some((original, 2)));
    assert_eq!(one_message(&app, &bob.client, room, original).await.reply_count, 2);
    // A quote read later carries the original's count as it is now.
    assert_eq!(
        one_message(&app, &bob.client, room, reply.number).await.reply_to,
        Some(ReplyTo { reply_count: 2, ..quote })
    );

    // Deleting a reply says how many are left.
    let url = app.url(&format!("/conversations/{room}/messages/{}", second.number));
    assert_eq!(alice.client.delete(url).send().await.expect("sent").status(), 204);
    match alice_ws.next_change().await {
        ServerEvent::MessageDeleted { reply_to, .. } => {
            assert_eq!(reply_to.map(|q| (q.number, q.reply_count)), Some((original, 1)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(one_message(&app, &bob.client, room, original).await.reply_count, 1);
    // The original deleted: the quote says so.
    let url = app.url(&format!("/conversations/{room}/messages/{original}"));
    assert_eq!(alice.client.delete(url).send().await.expect("sent").status(), 204);
    let quoted = one_message(&app, &bob.client, room, reply.number).await.reply_to.expect("a quote");
    assert_eq!((quoted.number, quoted.snippet), (original, None));
}

#[tokio::test]
async fn a_quote_says_its_original_was_edited_on_every_read_until_the_original_is_deleted() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let original = message(app.send(&alice.client, room, "Friday at 3").await).number;
    let body = json!({ "body": "works for me", "reply_to": original });
    let reply = message(app.post_message(&bob.client, room, body).await.json().await.expect("json"));
    assert!(!reply.reply_to.as_ref().expect("a quote").edited, "not edited yet");
    let serialized = app.history(&bob.client, room, "").await;
    assert!(serialized["messages"][1]["reply_to"].get("edited").is_none(), "{}", serialized["messages"][1]);

    let url = app.url(&format!("/conversations/{room}/messages/{original}"));
    let edit = alice.client.patch(&url).json(&json!({ "body": "Friday at 4" })).send().await.expect("sent");
    assert_eq!(edit.status(), 200);
    let quoted = one_message(&app, &bob.client, room, reply.number).await.reply_to.expect("a quote");
    assert_eq!((quoted.snippet.as_deref(), quoted.edited), (Some("Friday at 4"), true));
    // A reply sent after the edit quotes it as edited too.
    let body = json!({ "body": "4 is better", "reply_to": original });
    let later = message(app.post_message(&alice.client, room, body).await.json().await.expect("json"));
    assert!(later.reply_to.expect("a quote").edited);
    // Deleted, the quote says that, not "(edited)".
    assert_eq!(alice.client.delete(&url).send().await.expect("sent").status(), 204);
    let quoted = one_message(&app, &bob.client, room, reply.number).await.reply_to.expect("a quote");
    assert_eq!((quoted.snippet, quoted.edited), (None, false));
}

#[tokio::test]
async fn a_messages_replies_are_listed_oldest_first_a_page_at_a_time_to_members_only() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let original = message(app.send(&alice.client, room, "Lunch?").await).number;
    let other = message(app.send(&alice.client, room, "Also: the report").await).number;
    let mut replies = Vec::new();
    for (n, body) in ["**yes**", "no", "maybe", "later"].into_iter().enumerate() {
        let client = if n % 2 == 0 { &bob.client } else { &alice.client };
        let response = app.post_message(client, room, json!({ "body": body, "reply_to": original })).await;
        assert_eq!(response.status(), 201);
        replies.push(message(response.json().await.expect("json")).number);
        app.post_message(&bob.client, room, json!({ "body": "re the report", "reply_to": other })).await;
    }
    let gone = replies[2];
    let url = app.url(&format!("/conversations/{room}/messages/{gone}"));
    assert_eq!(bob.client.delete(url).send().await.expect("sent").status(), 204);
    let list = |client: &Client, number: i64, query: &str| {
        let url = app.url(&format!("/conversations/{room}/messages/{number}/replies{query}"));
        let request = client.get(url).send();
        async move { request.await.expect("answered") }
    };
    let numbers = |page: &Value| -> Vec<i64> {
        page["messages"].as_array().expect("messages").iter().map(|m| m["number"].as_i64().expect("n")).collect()
    };

    // Act
    let all: Value = list(&alice.client, original, "").await.json().await.expect("json");
    let first_page: Value = list(&bob.client, original, "?limit=2").await.json().await.expect("json");
    let next = format!("?limit=2&after={}", first_page["page_info"]["newest"]);
    let second_page: Value = list(&bob.client, original, &next).await.json().await.expect("json");
    // The page's own cursor pages on too.
    let cursor = first_page["page_info"]["cursor"].clone();
    let by_cursor = format!("?limit=2&after={}", cursor["after"].as_str().expect("an after cursor"));
    let by_cursor: Value = list(&bob.client, original, &by_cursor).await.json().await.expect("json");
    let none: Value = list(&bob.client, replies[0], "").await.json().await.expect("json");

    // Assert
    assert_eq!(numbers(&all), [replies[0], replies[1], replies[3]], "oldest first, the deleted one left out");
    assert_eq!(all["messages"][0]["html"], "<p><strong>yes</strong></p>\n", "{all}");
    assert_eq!(all["messages"][0]["user"]["username"], "bob");
    assert_eq!(numbers(&first_page), [replies[0], replies[1]]);
    assert_eq!(numbers(&second_page), [replies[3]]);
    assert_eq!(numbers(&by_cursor), [replies[3]], "{cursor}");
    assert!(cursor["before"].is_null(), "replies have no page before: {cursor}");
    assert_eq!(numbers(&none), Vec::<i64>::new());
    assert_error(list(&carol.client, original, "").await, 404).await;
    assert_error(list(&crate::helpers::new_client(), original, "").await, 401).await;
    assert_error(list(&bob.client, 999, "").await, 404).await;
    assert_error(list(&bob.client, original, "?limit=0").await, 422).await;
    assert_error(list(&bob.client, original, "?after=x").await, 400).await;
}

#[tokio::test]
async fn a_reply_to_a_missing_or_deleted_message_or_another_rooms_is_refused() {
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let other = app.conversation_with(&alice.client, &[carol.id]).await;
    for _ in 0..3 {
        app.send(&alice.client, other, "elsewhere").await;
    }
    let first = message(app.send(&alice.client, room, "first").await).number;
    let url = app.url(&format!("/conversations/{room}/messages/{first}"));
    assert_eq!(alice.client.delete(url).send().await.expect("sent").status(), 204);
    // A deleted one says so in words; the others are not this room's.
    let response = app.post_message(&bob.client, room, json!({ "body": "re", "reply_to": first })).await;
    let errors = assert_error(response, 422).await;
    assert_eq!(errors["errors"][0], "The message you are replying to was deleted");
    for reply_to in [json!(3), json!(0), json!(-1)] {
        let response = app.post_message(&bob.client, room, json!({ "body": "re", "reply_to": reply_to })).await;
        let errors = assert_error(response, 422).await;
        assert!(errors["errors"][0].as_str().is_some_and(|e| e.contains("reply_to")), "{reply_to}: {errors}");
    }
    let response = app.post_message(&bob.client, room, json!({ "body": "re", "reply_to": "x" })).await;
    assert_error(response, 422).await;
    assert_eq!(app.history(&bob.client, room, "").await["messages"].as_array().map(Vec::len), Some(1));
}

/// What a client shows of a message: text, HTML, quote, reply count and
/// reactions, by number.
type View = BTreeMap<i64, Shown>;
type Shown = (Option<String>, Option<String>, Option<ReplyTo>, i64, Vec<Reaction>, Option<Pin>);

/// (A quote's `reply_count` is what its event said of the original, which
/// the client moves onto the original: the quote does not show it.)
fn shown(m: &Message) -> Shown {
    let quote = m.reply_to.clone().map(|q| ReplyTo { reply_count: 0, ..q });
    (m.body.clone(), m.html.clone(), quote, m.reply_count, m.reactions.clone(), m.pinned.clone())
}

/// Applies change events as the browser does (app/src/pages/room.rs).
fn apply(view: &mut View, events: &[ServerEvent]) {
    let set_count = |view: &mut View, quote: &Option<ReplyTo>| {
        if let Some(quote) = quote
            && let Some(original) = view.get_mut(&quote.number)
        {
            original.3 = quote.reply_count;
        }
    };
    for event in events {
        match event {
            ServerEvent::Message { message, .. } | ServerEvent::MessageEdited { message, .. } => {
                view.insert(message.number, shown(message));
                set_count(view, &message.reply_to);
                // The quotes of an edited message follow the text it shows
                // (the browser reads it from `html`; the server's
                // `one_line` gives the same).
                for m in view.values_mut() {
                    if let Some(quote) = m.2.as_mut().filter(|q| q.number == message.number) {
                        quote.snippet =
                            message.body.as_deref().map(|body| hearth::markdown::one_line(body, ReplyTo::SNIPPET_MAX));
                        quote.edited = message.edited_at.is_some() && !message.deleted;
                    }
                }
            }
            ServerEvent::MessageDeleted { number, reply_to, .. } => {
                if let Some(m) = view.get_mut(number) {
                    (m.0, m.1, m.4, m.5) = (None, None, Vec::new(), None);
                }
                for m in view.values_mut() {
                    if let Some(quote) = m.2.as_mut().filter(|q| q.number == *number) {
                        (quote.snippet, quote.edited) = (None, false);
                    }
                }
                set_count(view, reply_to);
            }
            ServerEvent::Reacted { number, reactions, .. } => {
                if let Some(m) = view.get_mut(number) {
                    m.4 = reactions.clone();
                }
            }
            _ => {}
        }
    }
}

async fn fresh_load(app: &TestApp, client: &Client, room: i64) -> View {
    let page = app.history(client, room, "after_number=0&limit=200").await;
    let messages: Vec<Message> = serde_json::from_value(page["messages"].clone()).expect("messages");
    messages.iter().map(|m| (m.number, shown(m))).collect()
}

#[tokio::test]
async fn resume_replays_reactions_replies_edits_and_deletes_to_a_fresh_load_seed_3() {
    resume_with_rich_changes(3).await;
}

#[tokio::test]
async fn resume_replays_reactions_replies_edits_and_deletes_to_a_fresh_load_seed_4242() {
    resume_with_rich_changes(4242).await;
}

#[tokio::test]
async fn resume_replays_reactions_replies_edits_and_deletes_to_a_fresh_load_seed_77777() {
    resume_with_rich_changes(77_777).await;
}

/// Bob and carol send, reply, react, pin, edit and delete at random; alice's
/// socket drops now and then and resumes from the last seq it saw, so some
/// changes reach her live and some by replay. Every seq arrives once, in
/// order, and applying them ends at a fresh load.
async fn resume_with_rich_changes(seed: u64) {
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.create_conversation(&alice.client, json!({ "participant_ids": [bob.id, carol.id], "title": "t" }));
    let room: Value = room.await.json().await.expect("json");
    let room = room["id"].as_i64().expect("room id");
    let mut rng = StdRng::seed_from_u64(seed);
    let people: [&Person; 2] = [&bob, &carol];
    let emoji = ["👍", "🎉", "❤️"];

    let mut ws = Some(connect(&app, &alice).await);
    let mut changes: Vec<ServerEvent> = Vec::new();
    if let Some(ws) = ws.as_mut() {
        ws.subscribe(room, Some(0)).await;
    }
    // number → (author index, deleted)
    let mut written: Vec<(i64, usize, bool)> = Vec::new();
    let mut drops = 0;
    for step in 0..120 {
        // Alice's socket: drop it, or (when down) resume from what she saw.
        let roll = rng.random_range(0..100);
        match ws.take() {
            Some(mut socket) if roll < 12 => {
                collect(&mut socket, &mut changes, &app, &alice, room).await;
                drop(socket);
                drops += 1;
            }
            Some(socket) => ws = Some(socket),
            None if roll < 50 => {
                let mut socket = connect(&app, &alice).await;
                let after = changes.last().and_then(ServerEvent::seq).unwrap_or(0);
                changes.extend(socket.subscribe(room, Some(after)).await.into_iter().filter(|e| e.seq().is_some()));
                ws = Some(socket);
            }
            None => {}
        }
        let who = rng.random_range(0..2);
        let client = &people[who].client;
        let live: Vec<(i64, usize)> = written.iter().filter(|w| !w.2).map(|w| (w.0, w.1)).collect();
        let pick = (!live.is_empty()).then(|| live[rng.random_range(0..live.len())]);
        match (rng.random_range(0..11), pick) {
            (0..=2, _) | (_, None) => {
                let body = format!("**{step}** from {who}");
                written.push((message(app.send(client, room, &body).await).number, who, false));
            }
            (3..=4, Some((number, _))) => {
                let body = json!({ "body": format!("re {step} `code`"), "reply_to": number });
                let response = app.post_message(client, room, body).await;
                assert_eq!(response.status(), 201, "seed {seed}, step {step}");
                written.push((message(response.json().await.expect("json")).number, who, false));
            }
            (5..=7, Some((number, _))) => {
                let status = react(&app, client, room, number, emoji[rng.random_range(0..3)]).await.status();
                assert_eq!(status, 200, "seed {seed}, step {step}");
            }
            (8, Some((number, author))) => {
                let url = app.url(&format!("/conversations/{room}/messages/{number}"));
                let response = people[author].client.patch(url).json(&json!({ "body": format!("_edited_ {step}") }));
                assert_eq!(response.send().await.expect("sent").status(), 200, "seed {seed}, step {step}");
            }
            (9, Some((number, _))) => {
                let url = app.url(&format!("/conversations/{room}/messages/{number}/pin"));
                let response = if rng.random_bool(0.7) { client.put(url) } else { client.delete(url) };
                assert_eq!(response.send().await.expect("sent").status(), 200, "seed {seed}, step {step}");
            }
            (_, Some((number, author))) => {
                let url = app.url(&format!("/conversations/{room}/messages/{number}"));
                assert_eq!(people[author].client.delete(url).send().await.expect("sent").status(), 204);
                if let Some(w) = written.iter_mut().find(|w| w.0 == number) {
                    w.2 = true;
                }
            }
        }
    }
    let mut socket = match ws {
        Some(socket) => socket,
        None => {
            let mut socket = connect(&app, &alice).await;
            let after = changes.last().and_then(ServerEvent::seq).unwrap_or(0);
            changes.extend(socket.subscribe(room, Some(after)).await.into_iter().filter(|e| e.seq().is_some()));
            socket
        }
    };
    collect(&mut socket, &mut changes, &app, &alice, room).await;
    eprintln!("seed {seed}: {} changes, {drops} drops", changes.len());

    let final_seq = app.last_seq(&alice.client, room).await;
    let seqs: Vec<i64> = changes.iter().filter_map(ServerEvent::seq).collect();
    assert_eq!(seqs, (1..=final_seq).collect::<Vec<_>>(), "seed {seed}: each seq once, in order");
    assert!(drops >= 3, "seed {seed}: only {drops} drops");
    assert!(changes.iter().any(|e| matches!(e, ServerEvent::Reacted { .. })), "seed {seed}: no reactions");
    assert!(
        changes.iter().any(|e| matches!(e, ServerEvent::MessageEdited { message, .. } if message.pinned.is_some())),
        "seed {seed}: no pins"
    );
    assert!(
        changes.iter().any(|e| matches!(e, ServerEvent::Message { message, .. } if message.reply_to.is_some())),
        "seed {seed}: no replies"
    );
    let mut view = View::new();
    apply(&mut view, &changes);
    let loaded = fresh_load(&app, &alice.client, room).await;
    let differ: Vec<String> = loaded
        .iter()
        .filter(|(number, shown)| view.get(number) != Some(shown))
        .map(|(number, shown)| format!("#{number}: socket {:?}\n   load {shown:?}", view.get(number)))
        .collect();
    assert_eq!(view.len(), loaded.len(), "seed {seed}: as many messages");
    assert!(differ.is_empty(), "seed {seed}: the socket's view is not a fresh load:\n{}", differ.join("\n"));
}

/// Reads every change up to the room's current seq.
async fn collect(ws: &mut Ws, changes: &mut Vec<ServerEvent>, app: &TestApp, alice: &Person, room: i64) {
    let target = app.last_seq(&alice.client, room).await;
    while changes.last().and_then(ServerEvent::seq).unwrap_or(0) < target {
        match ws.next_within(Duration::from_secs(10)).await {
            Next::Event(ServerEvent::Error { code, message, .. }) => panic!("{code}: {message}"),
            Next::Event(ServerEvent::Resync { .. }) => panic!("resync"),
            Next::Event(event) if event.seq().is_some() => changes.push(event),
            Next::Event(_) => {}
            other => panic!("waiting for seq {target}: {other:?}"),
        }
    }
}

/// `GET /emoji?query=`: the emoji a shortcode's start names, for the
/// composer's `:tad` autocomplete; a query that is no shortcode is a 422.
#[tokio::test]
async fn emoji_are_found_by_the_start_of_their_shortcodes() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let tada = app.get_json(&alice.client, "/emoji?query=tad").await;
    let colons = app.get_json(&alice.client, "/emoji?query=%3ATADA%3A").await;
    let none = app.get_json(&alice.client, "/emoji?query=zzzzqqq").await;

    assert_eq!(tada["emoji"][0], json!({ "emoji": "🎉", "shortcode": "tada" }), "{tada}");
    assert_eq!(colons["emoji"][0], tada["emoji"][0], "colons and case do not count");
    assert!(tada["emoji"].as_array().expect("a list").len() <= 8);
    assert_eq!(none, json!({ "emoji": [] }));
    for bad in ["/emoji", "/emoji?query=", "/emoji?query=%3Cscript%3E", &format!("/emoji?query={}", "a".repeat(33))] {
        crate::helpers::assert_error_about(bad, app.get(&alice.client, bad).await, 422).await;
    }
    assert_error(app.get(&crate::helpers::new_client(), "/emoji?query=tad").await, 401).await;
}
