//! `GET /search?q=&room_id=&limit=` for the signed-in web UI: my rooms only,
//! with the match's character offsets.

use serde_json::{Value, json};

use crate::helpers::{assert_error, assert_error_about, new_client, spawn_app};

/// The `(room_id, number)` of each result, in order.
fn found(page: &Value) -> Vec<(i64, i64)> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["room_id"].as_i64().expect("room_id"), r["number"].as_i64().expect("number")))
        .collect()
}

fn search_path(query: &str) -> String {
    format!("/search?q={}", query.bytes().map(|b| format!("%{b:02X}")).collect::<String>())
}

#[tokio::test]
async fn search_covers_every_room_i_belong_to_and_nothing_else() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let with_bob = app.conversation_with(&alice.client, &[bob.id]).await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let bob_and_carol = app.conversation_with(&bob.client, &[carol.id]).await;
    app.send(&alice.client, with_bob, "Hello Bob").await;
    let bobs = app.send(&bob.client, group, "well hello everyone").await;
    app.send(&carol.client, bob_and_carol, "hello, just us").await;
    let application = app.create_application(&alice.client, "Helpdesk").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Ticket").await;
    app.post_app_message(&token, 1, "HELLO from the API").await;
    let ticket = app.room_titled(&alice.client, "Ticket").await;
    let picture = format!("{}/other.png", crate::helpers::picture_site().await);
    let put =
        bob.client.put(app.url("/users/me")).json(&json!({ "user": { "avatar_url": picture } })).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let put: Value = put.json().await.unwrap();
    let picture = put["user"]["avatar_url"].as_str().expect("the copy's address").to_owned();

    let alices = app.get_json(&alice.client, &search_path("hello")).await;
    let carols = app.get_json(&carol.client, &search_path("hello")).await;

    assert_eq!(found(&alices), [(ticket, 1), (group, 1), (with_bob, 1)], "newest first, the API chat included");
    let from_api = app.history(&alice.client, ticket, "").await["messages"][0]["created_at"].clone();
    assert!(from_api.is_string(), "{from_api}");
    assert_eq!(
        alices["results"][0],
        json!({ "room_id": ticket, "number": 1, "body": "HELLO from the API", "text": "HELLO from the API",
                "match_start": 0, "match_end": 5,
                "user": null, "application": "Helpdesk", "created_at": from_api }),
        "an application's message is by the application"
    );
    assert_eq!(alices["results"][1]["match_start"], 5);
    assert_eq!(alices["results"][1]["match_end"], 10);
    // Each hit says who sent it and when, as the message itself does.
    assert_eq!(alices["results"][1]["user"], bobs["user"], "{}", alices["results"][1]);
    assert_eq!(alices["results"][1]["user"]["username"], "bob");
    assert_eq!(alices["results"][1]["created_at"], bobs["created_at"]);
    assert!(alices["results"][1].get("application").is_none(), "no application on a person's message");
    // With the sender's picture, when they have one.
    assert_eq!(alices["results"][1]["avatar_url"], picture.as_str());
    assert!(alices["results"][2].get("avatar_url").is_none(), "alice has no picture: {}", alices["results"][2]);
    assert_eq!(found(&carols), [(bob_and_carol, 1), (group, 1)]);
    assert_eq!(found(&app.get_json(&alice.client, &search_path("just us")).await), []);
    assert_eq!(found(&app.get_json(&alice.client, &search_path("he")).await).len(), 3, "short queries too");
}

#[tokio::test]
async fn match_offsets_count_characters_not_bytes() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "Привет, мир!").await;
    app.send(&alice.client, room, "你好世界").await;
    app.send(&alice.client, room, "Hello world!").await;

    let cyrillic = app.get_json(&alice.client, &search_path("МИР")).await;
    let chinese = app.get_json(&alice.client, &search_path("世界")).await;
    let across = app.get_json(&alice.client, &search_path("ELLO WOR")).await;

    assert_eq!(found(&cyrillic), [(room, 1)]);
    assert_eq!(
        (cyrillic["results"][0]["match_start"].clone(), cyrillic["results"][0]["match_end"].clone()),
        (json!(8), json!(11))
    );
    assert_eq!(found(&chinese), [(room, 2)]);
    assert_eq!(
        (chinese["results"][0]["match_start"].clone(), chinese["results"][0]["match_end"].clone()),
        (json!(2), json!(4))
    );
    app.send(&alice.client, room, "İstanbul meetingXYZ today").await;
    let after_dotted = app.get_json(&alice.client, &search_path("meetingxyz")).await;
    assert_eq!(
        (after_dotted["results"][0]["match_start"].clone(), after_dotted["results"][0]["match_end"].clone()),
        (json!(9), json!(19)),
        "\"İ\" lower-cases to two characters and moves nothing after it"
    );
    assert_eq!(across["results"][0]["body"], "Hello world!");
    assert_eq!(
        (across["results"][0]["match_start"].clone(), across["results"][0]["match_end"].clone()),
        (json!(1), json!(9))
    );
}

#[tokio::test]
async fn a_hit_lists_what_the_markdown_shows_with_the_match_marked_in_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "**Deploy** at `10:00`, see [the runbook](https://example.com/zebra)").await;

    let deploy = app.get_json(&bob.client, &search_path("10:00")).await;
    let link = app.get_json(&bob.client, &search_path("zebra")).await;

    let hit = &deploy["results"][0];
    assert_eq!(hit["body"], "**Deploy** at `10:00`, see [the runbook](https://example.com/zebra)", "the source");
    assert_eq!(hit["text"], "Deploy at 10:00, see the runbook", "without the markup");
    assert_eq!((hit["match_start"].clone(), hit["match_end"].clone()), (json!(10), json!(15)), "in the text");
    // Found by the link's target, which the text does not show: nothing to mark.
    assert_eq!(found(&link), [(room, 1)]);
    assert_eq!(link["results"][0]["text"], "Deploy at 10:00, see the runbook");
    assert!(link["results"][0]["match_start"].is_null(), "{}", link["results"][0]);
}

#[tokio::test]
async fn room_id_narrows_the_search_to_one_of_my_rooms() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let with_bob = app.conversation_with(&alice.client, &[bob.id]).await;
    let with_carol = app.conversation_with(&alice.client, &[carol.id]).await;
    app.send(&alice.client, with_bob, "lunch at noon?").await;
    app.send(&alice.client, with_carol, "lunch tomorrow").await;
    app.send(&carol.client, with_carol, "lunch, sure").await;

    let one_room = app.get_json(&alice.client, &format!("{}&room_id={with_carol}", search_path("lunch"))).await;
    let limited = app.get_json(&alice.client, &format!("{}&limit=2", search_path("lunch"))).await;

    assert_eq!(found(&one_room), [(with_carol, 2), (with_carol, 1)]);
    assert_eq!(found(&limited), [(with_carol, 2), (with_carol, 1)], "the two newest");
}

#[tokio::test]
async fn words_are_found_in_any_order_and_a_quoted_phrase_whole() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "Friday we deploy v2").await;
    app.send(&bob.client, room, "deploy on friday?").await;
    app.send(&alice.client, room, "deploy today").await;
    app.send(&bob.client, room, "**Friday** lunch, then DEPLOYMENT").await;
    let numbers = |page: Value| found(&page).into_iter().map(|(_, n)| n).collect::<Vec<i64>>();

    // Every word, in any order, as a part of a word; newest first.
    let both = app.get_json(&bob.client, &search_path("deploy friday")).await;
    assert_eq!(numbers(both.clone()), [4, 2, 1]);
    // The mark is the first word to occur, in the text as shown.
    assert_eq!(
        (both["results"][0]["match_start"].clone(), both["results"][0]["match_end"].clone()),
        (json!(0), json!(6))
    );
    assert_eq!(
        (both["results"][1]["match_start"].clone(), both["results"][1]["match_end"].clone()),
        (json!(0), json!(6))
    );
    // ...or the words as one phrase, where they occur so.
    let phrase = app.get_json(&bob.client, &search_path("deploy ON  friday")).await;
    assert_eq!(numbers(phrase.clone()), [4, 2, 1]);
    assert_eq!(
        (phrase["results"][1]["match_start"].clone(), phrase["results"][1]["match_end"].clone()),
        (json!(0), json!(16))
    );
    // A quoted phrase is matched whole.
    assert_eq!(numbers(app.get_json(&bob.client, &search_path(r#""we deploy""#)).await), [1]);
    assert_eq!(numbers(app.get_json(&bob.client, &search_path(r#""deploy friday""#)).await), Vec::<i64>::new());
    // Within one room too, and every word must be there.
    let in_room = format!("{}&room_id={room}", search_path("friday lunch deploy"));
    assert_eq!(numbers(app.get_json(&alice.client, &in_room).await), [4]);
    assert_eq!(numbers(app.get_json(&alice.client, &search_path("friday tuesday")).await), Vec::<i64>::new());
    // Words of one or two characters beside longer ones are left out, and
    // the answer says which...
    let left_out = app.get_json(&alice.client, &search_path("v2 deploy friday ON")).await;
    assert_eq!(left_out["ignored"], json!(["v2", "ON"]));
    assert_eq!(numbers(left_out), [4, 2, 1]);
    // ...but a query of only such words needs all of them.
    let short = app.get_json(&alice.client, &search_path("v2 we")).await;
    assert_eq!(short.get("ignored"), None, "every word counted");
    assert_eq!(numbers(short), [1]);
    assert_eq!(numbers(app.get_json(&alice.client, &search_path("on ?")).await), [2]);
}

#[tokio::test]
async fn a_query_of_more_than_eight_words_is_422_with_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let response = app.get(&alice.client, &search_path("one two three four five six seven eight nine")).await;

    let body = assert_error_about("q", response, 422).await;
    assert!(body["errors"].to_string().contains("Query has too many words (maximum is 8)"), "{body}");
    // Eight are fine, and a repeated word counts once.
    let eight = app.get(&alice.client, &search_path("one two three four five six seven eight ONE")).await;
    assert_eq!(eight.status(), 200);
}

#[tokio::test]
async fn a_limit_of_zero_is_422_with_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let response = app.get(&alice.client, &format!("{}&limit=0", search_path("lunch"))).await;

    let body = assert_error_about("limit", response, 422).await;
    assert!(body["errors"].to_string().contains("Limit must be at least 1 (at most 100 are returned)"), "{body}");
}

#[tokio::test]
async fn searching_a_room_i_am_not_in_is_404() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let theirs = app.conversation_with(&bob.client, &[carol.id]).await;
    app.send(&bob.client, theirs, "private plans").await;

    let response = app.get(&alice.client, &format!("{}&room_id={theirs}", search_path("plans"))).await;
    let missing = app.get(&alice.client, &format!("{}&room_id=999999", search_path("plans"))).await;

    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"].is_array(), "{body}");
    assert!(!body.to_string().contains("private plans"));
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn search_needs_a_signed_in_user_and_a_query() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let anonymous = app.get(&new_client(), &search_path("hello")).await;
    let blank = app.get(&alice.client, "/search?q=%20%20").await;
    let empty = app.get(&alice.client, "/search?q=").await;
    let missing = app.get(&alice.client, "/search").await;

    assert_error(anonymous, 401).await;
    for response in [blank, empty, missing] {
        assert_error(response, 422).await;
    }
}

#[tokio::test]
async fn a_deleted_message_is_no_longer_found() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "my password is hunter2").await;
    app.send(&alice.client, room, "oops, hunter3 then").await;
    assert_eq!(found(&app.get_json(&bob.client, &search_path("hunter")).await), [(room, 2), (room, 1)]);

    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/1"))).send().await.unwrap();

    assert_eq!(deleted.status(), 204);
    assert_eq!(found(&app.get_json(&bob.client, &search_path("hunter")).await), [(room, 2)]);
    assert_eq!(found(&app.get_json(&bob.client, &search_path("password")).await), []);
    assert_eq!(found(&app.get_json(&bob.client, &search_path("2")).await), [], "nor by a short query");
}

#[tokio::test]
async fn an_edited_message_is_found_by_its_new_text() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "meet at the station").await;

    let edited = app.edit_message(&alice.client, room, 1, "meet at the harbour").await;

    assert_eq!(edited.status(), 200);
    assert_eq!(found(&app.get_json(&bob.client, &search_path("station")).await), []);
    let mut hits = app.get_json(&bob.client, &search_path("Harbour")).await;
    let hit = hits["results"][0].as_object_mut().expect("a hit");
    assert_eq!(hit.remove("user").expect("its sender")["username"], "alice");
    assert!(hit.remove("created_at").expect("its time").is_string());
    assert_eq!(
        hits,
        json!({ "results": [{ "room_id": room, "number": 1, "body": "meet at the harbour", "text": "meet at the harbour",
                       "match_start": 12, "match_end": 19 }], "partial": false })
    );
}

#[tokio::test]
async fn leaving_a_room_takes_it_out_of_my_search() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    app.send(&alice.client, group, "team offsite plans").await;
    assert_eq!(found(&app.get_json(&bob.client, &search_path("offsite")).await), [(group, 1)]);

    let left = bob.client.delete(app.url(&format!("/conversations/{group}/membership"))).send().await.unwrap();

    assert_eq!(left.status(), 204);
    assert_eq!(found(&app.get_json(&bob.client, &search_path("offsite")).await), []);
    assert_eq!(found(&app.get_json(&bob.client, &search_path("of")).await), []);
    let one_room = app.get(&bob.client, &format!("{}&room_id={group}", search_path("offsite"))).await;
    assert_eq!(one_room.status(), 404);
}

#[tokio::test]
async fn short_queries_ignore_case_in_any_script() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "Привет, мир!").await;

    let lower = app.get_json(&alice.client, &search_path("пр")).await;
    let upper = app.get_json(&alice.client, &search_path("МИ")).await;

    assert_eq!(found(&lower), [(room, 1)]);
    assert_eq!(
        (lower["results"][0]["match_start"].clone(), lower["results"][0]["match_end"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(found(&upper), [(room, 1)]);
}

/// Posts `count` messages to `room` as `author` (straight to the core, for
/// speed): message n says "message n", plus each word `words(n)` gives.
async fn post_many(app: &crate::helpers::TestApp, room: i64, author: i64, count: i64, words: impl Fn(i64) -> String) {
    for n in 1..=count {
        let body = format!("message {n} {}", words(n));
        app.hearth
            .post_message(hearth::model::UserId(author), hearth::model::RoomId(room), &body, None)
            .await
            .unwrap_or_else(|e| panic!("posting message {n}: {e}"));
    }
}

#[tokio::test]
async fn a_search_over_more_messages_than_it_reads_first_still_answers_the_newest_matches() {
    // The store first matches the newest 2,000 messages and answers from them
    // when enough match; otherwise the index answers over all history. Either
    // way the answer is the newest matches, in my rooms only.
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let big = app.conversation_with(&alice.client, &[bob.id]).await;
    let others = app.conversation_with(&bob.client, &[carol.id]).await;
    post_many(&app, big, alice.id, 2500, |n| {
        let mut words = Vec::new();
        if n % 10 == 0 {
            words.push("common");
        }
        if n <= 30 {
            words.push("early");
        }
        if n % 200 == 0 {
            words.push("sparse");
        }
        words.join(" ")
    })
    .await;
    // Newer than all of those, in a room alice is not in.
    post_many(&app, others, bob.id, 30, |_| "common early sparse".to_owned()).await;
    let small = app.conversation_with(&alice.client, &[carol.id]).await;
    post_many(&app, small, carol.id, 3, |_| "common".to_owned()).await;

    let search = |query: &str, extra: &str| {
        let path = format!("{}{extra}", search_path(query));
        let (app, client) = (&app, &alice.client);
        async move { app.get_json(client, &path).await }
    };
    // Many recent matches: answered from the newest messages, across rooms.
    let mut newest_common = vec![(small, 3), (small, 2), (small, 1)];
    newest_common.extend((0..17).map(|i| (big, 2500 - 10 * i)));
    assert_eq!(found(&search("common", "").await), newest_common);
    let in_big: Vec<(i64, i64)> = (0..20).map(|i| (big, 2500 - 10 * i)).collect();
    assert_eq!(found(&search("COMMON", &format!("&room_id={big}")).await), in_big, "one room, any case");
    // Only old matches: the index answers.
    let early: Vec<(i64, i64)> = (11..=30).rev().map(|n| (big, n)).collect();
    assert_eq!(found(&search("early", "").await), early);
    assert_eq!(found(&search("early", "&limit=100").await).len(), 30);
    // Some matches among the newest, fewer than asked: the index answers.
    let sparse: Vec<(i64, i64)> = (1..=12).rev().map(|i| (big, 200 * i)).collect();
    assert_eq!(found(&search("sparse", "").await), sparse);
    assert_eq!(found(&search("sparse", "&limit=5").await), sparse[..5]);
    assert_eq!(found(&search("nowhere", "").await), []);
}

/// A short query across rooms that fill at different paces (one busy, one
/// slower, one quiet, one of three messages, and a room I am not in), over
/// several scan windows: exactly the newest matches of my rooms, newest
/// first, whatever the case or script of the text, and none from the room
/// I am not in. Three seeds.
#[tokio::test]
async fn a_short_query_across_rooms_of_different_paces_finds_exactly_the_newest_matches() {
    for seed in [1_u64, 7, 2026] {
        let app = spawn_app().await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let busy = app.conversation_with(&alice.client, &[bob.id]).await;
        let slower = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
        let quiet = app.conversation_with(&alice.client, &[carol.id]).await;
        let theirs = app.conversation_with(&bob.client, &[carol.id]).await;
        // A room of three messages, which a window does not share out to.
        let dave = app.user("dave").await;
        let tiny = app.conversation_with(&alice.client, &[dave.id]).await;
        let texts = ["QX marks it", "a qX", "q x is not it", "ÜBER alles", "über", "\u{212a}x by Kelvin", "plain"];
        let mut state = seed;
        let mut next = move |below: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        let mut posted = Vec::new();
        let mut numbers = std::collections::HashMap::new();
        for n in 0..2_500 {
            let (room, author) = match next(100) {
                _ if [0, 1_200, 2_400].contains(&n) => (tiny, dave.id),
                0..=69 => (busy, alice.id),
                70..=89 => (slower, bob.id),
                90..=94 => (quiet, carol.id),
                _ => (theirs, bob.id),
            };
            let body = match next(30) {
                _ if room == tiny => format!("qx and üb in the tiny room {n}"),
                0..=5 => format!("{} {n}", texts[next(texts.len() as u64) as usize]),
                _ => format!("message {n}"),
            };
            app.hearth
                .post_message(hearth::model::UserId(author), hearth::model::RoomId(room), &body, None)
                .await
                .unwrap_or_else(|e| panic!("posting {n}: {e}"));
            let number = numbers.entry(room).and_modify(|k| *k += 1).or_insert(1_i64);
            posted.push((room, *number, body));
        }
        for (query, limit) in [("qx", 100), ("QX", 5), ("üb", 100), ("kx", 100), ("ü", 3), ("zz", 100)] {
            let needle = hearth::search::fold(query);
            let expected: Vec<(i64, i64)> = posted
                .iter()
                .rev()
                .filter(|(room, _, body)| *room != theirs && hearth::search::fold(body).contains(&needle))
                .map(|(room, number, _)| (*room, *number))
                .take(limit)
                .collect();
            let path = format!("{}&limit={limit}", search_path(query));
            let page = app.get_json(&alice.client, &path).await;
            assert_eq!(found(&page), expected, "seed {seed}, {query:?}");
            assert_eq!(page["partial"], false, "seed {seed}, {query:?}: every message was within reach");
            let in_room = app.get_json(&alice.client, &format!("{path}&room_id={slower}")).await;
            let expected: Vec<(i64, i64)> = posted
                .iter()
                .rev()
                .filter(|(room, _, body)| *room == slower && hearth::search::fold(body).contains(&needle))
                .map(|(room, number, _)| (*room, *number))
                .take(limit)
                .collect();
            assert_eq!(found(&in_room), expected, "seed {seed}, {query:?} in one room");
        }
    }
}

#[tokio::test]
async fn an_accent_typed_as_one_character_or_as_a_letter_and_a_mark_is_one_letter_to_search() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    // As macOS pastes it: "o" and a combining diaeresis; and as most type it.
    app.send(&alice.client, room, "Grüße aus Ko\u{308}ln").await;
    app.send(&alice.client, room, "Café noir").await;

    for query in ["Köln", "ko\u{308}ln", "KÖLN"] {
        let page = app.get_json(&alice.client, &search_path(query)).await;
        assert_eq!(found(&page), [(room, 1)], "{query}");
        // Marked whole: the "ö" inside the mark, not its accent left out of it.
        let hit = &page["results"][0];
        assert_eq!((hit["match_start"].clone(), hit["match_end"].clone()), (json!(10), json!(14)), "{query}");
    }
    // Kept composed, as it is searched.
    let history = app.get_json(&alice.client, &format!("/conversations/{room}/messages")).await;
    assert!(history.to_string().contains("Grüße aus Köln"), "{history}");
    let page = app.get_json(&alice.client, &search_path("cafe\u{301}")).await;
    assert_eq!(found(&page), [(room, 2)]);
}
