//! A person's avatar: their picture when their profile has one, otherwise
//! their initials in white on a colour derived from their user id (the same
//! colour on every page and for every viewer). The colours live in
//! [`PALETTE`] and, as classes `.avatar.c0`… `.avatar.c11`, in
//! `style/main.css` (the CSP allows no `style=` attribute); a test keeps
//! the two equal, and another that white on each passes WCAG AA (4.5:1).

use hearth::model::UserId;
use leptos::prelude::*;

/// Background colours for initials, each at least 4.5:1 against white.
pub const PALETTE: [&str; 12] = [
    "#b3261e", "#a63d00", "#8a5300", "#5c6b00", "#2e7d32", "#00796b", "#0b6e99", "#1565c0", "#3949ab", "#5e35b1",
    "#8e24aa", "#ad1457",
];

/// The palette index for `id`: steps of 5 through the 12 colours (5 and 12
/// share no factor), so people who signed up one after another never share
/// a colour, and any twelve in a row use all twelve.
pub fn colour_index(id: UserId) -> usize {
    let n = PALETTE.len() as i64;
    (id.0.rem_euclid(n) * 5 % n) as usize
}

/// The id whose colour a sender's initials take: their user id, or for an
/// application (which has no account) a number made from its name, so one
/// application keeps one colour.
pub fn colour_id(user: Option<UserId>, name: &str) -> UserId {
    user.unwrap_or_else(|| UserId(name.bytes().map(i64::from).sum()))
}

/// Up to two initials of a display name: the first letters of its first and
/// last words ("Ada Lovelace" → "AL", "bob" → "B"); "?" when it has no
/// letter or digit.
pub fn initials(name: &str) -> String {
    let firsts: Vec<char> =
        name.split_whitespace().filter_map(|word| word.chars().find(|c| c.is_alphanumeric())).collect();
    let picked: Vec<char> = match firsts.as_slice() {
        [] => return "?".to_owned(),
        [one] => vec![*one],
        [first, .., last] => vec![*first, *last],
    };
    picked.into_iter().flat_map(char::to_uppercase).collect()
}

/// The avatar of `name` (user `id`, picture `url`). Decorative: the name is
/// always written beside it, so screen readers skip it. A picture that
/// fails to load (a dead link) gives way to the initials, not the browser's
/// broken-image icon: on its `error` event, or, when it failed before the
/// page hydrated, as hydration finds it.
#[component]
pub fn Avatar(id: UserId, name: String, #[prop(optional)] url: Option<String>) -> impl IntoView {
    let class = format!("avatar initials c{}", colour_index(id));
    let letters = initials(&name);
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        return view! { <span class=class aria-hidden="true">{letters}</span> }.into_any();
    };
    let failed = RwSignal::new(false);
    let picture: NodeRef<leptos::html::Img> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(img) = picture.get()
            && img.complete()
            && img.natural_width() == 0
        {
            failed.set(true);
        }
    });
    view! {
        <Show
            when=move || !failed.get()
            fallback=move || view! { <span class=class.clone() aria-hidden="true">{letters.clone()}</span> }
        >
            <img class="avatar" src=url.clone() alt="" aria-hidden="true" node_ref=picture on:error=move |_| failed.set(true) />
        </Show>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = u8::from_str_radix(&hex[i..i + 2], 16).expect("hex") as f64 / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    #[test]
    fn white_initials_on_every_palette_colour_pass_wcag_aa() {
        for hex in PALETTE {
            let ratio = 1.05 / (luminance(hex) + 0.05);
            assert!(ratio >= 4.5, "{hex}: {ratio:.2}:1");
        }
    }

    #[test]
    fn the_stylesheet_has_one_class_per_palette_colour_with_white_text() {
        let css = include_str!("../../../style/main.css");
        for (i, hex) in PALETTE.iter().enumerate() {
            let rule = format!(".avatar.c{i} {{ background: {hex}; }}");
            assert!(css.contains(&rule), "style/main.css lacks `{rule}`");
        }
        assert!(css.contains(".avatar.initials {") && css.contains("color: #ffffff"), "white initials");
    }

    #[test]
    fn the_colour_depends_only_on_the_id_and_neighbours_differ() {
        assert_eq!(colour_index(UserId(7)), colour_index(UserId(7)));
        let firsts: std::collections::HashSet<usize> = (1..=12).map(|n| colour_index(UserId(n))).collect();
        assert_eq!(firsts.len(), PALETTE.len(), "12 consecutive ids use every colour");
        for n in 1..200 {
            assert_ne!(colour_index(UserId(n)), colour_index(UserId(n + 1)), "ids {n} and {}", n + 1);
        }
    }

    #[test]
    fn a_sender_without_an_account_is_coloured_by_its_name() {
        assert_eq!(colour_id(Some(UserId(7)), "Deploy bot"), UserId(7));
        assert_eq!(colour_id(None, "Deploy bot"), colour_id(None, "Deploy bot"));
        assert_ne!(colour_id(None, "Deploy bot"), colour_id(None, "CI"));
    }

    #[test]
    fn initials_are_the_first_letters_of_the_first_and_last_words() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("ada king lovelace"), "AL");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("  @carol  (ops) "), "CO");
        assert_eq!(initials("émile zola"), "ÉZ");
        assert_eq!(initials("🔥"), "?");
        assert_eq!(initials(""), "?");
    }
}
