//! Chat-like message bodies for the storage benchmarks, deterministic from a
//! seed: common English chat words (Zipf-distributed, so a few are in a
//! large share of messages), a long tail of made-up words built from
//! syllables (so the trigram index sees many distinct trigrams), and now and
//! then a word in another script (accents, Greek, Cyrillic, CJK, emoji).
//! A few marker words are planted at known rates so that search queries of
//! known selectivity exist; see [`Marker`].

/// splitmix64: small, fast, good enough for test data, no dependency.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index in `0..n` with probability ∝ 1/(i+1) (Zipf, s = 1).
    pub fn zipf(&mut self, n: usize) -> usize {
        // Inverse of the continuous approximation: H(x) ≈ ln(x + 1).
        let u = self.unit();
        let x = ((n as f64 + 1.0).ln() * u).exp() - 1.0;
        (x as usize).min(n - 1)
    }
}

/// The 200 most common words of chat, roughly in order of frequency.
const COMMON: &[&str] = &[
    "the",
    "i",
    "to",
    "you",
    "a",
    "and",
    "it",
    "is",
    "that",
    "we",
    "in",
    "for",
    "of",
    "on",
    "this",
    "be",
    "can",
    "just",
    "so",
    "do",
    "have",
    "not",
    "with",
    "will",
    "but",
    "what",
    "me",
    "ok",
    "if",
    "are",
    "at",
    "my",
    "was",
    "yes",
    "no",
    "it's",
    "i'm",
    "think",
    "now",
    "get",
    "there",
    "thanks",
    "about",
    "up",
    "one",
    "should",
    "good",
    "know",
    "like",
    "need",
    "all",
    "out",
    "can't",
    "don't",
    "we're",
    "let's",
    "today",
    "tomorrow",
    "time",
    "going",
    "see",
    "look",
    "here",
    "right",
    "also",
    "still",
    "work",
    "make",
    "did",
    "how",
    "when",
    "yeah",
    "sure",
    "please",
    "great",
    "new",
    "meeting",
    "call",
    "build",
    "deploy",
    "release",
    "review",
    "merge",
    "branch",
    "test",
    "tests",
    "fix",
    "bug",
    "issue",
    "server",
    "client",
    "database",
    "query",
    "index",
    "page",
    "link",
    "doc",
    "docs",
    "notes",
    "plan",
    "week",
    "morning",
    "lunch",
    "coffee",
    "back",
    "later",
    "soon",
    "done",
    "ready",
    "again",
    "maybe",
    "probably",
    "sounds",
    "nice",
    "cool",
    "problem",
    "error",
    "log",
    "logs",
    "change",
    "changes",
    "update",
    "version",
    "config",
    "team",
    "user",
    "users",
    "customer",
    "feedback",
    "design",
    "data",
    "report",
    "number",
    "numbers",
    "check",
    "ticket",
    "sprint",
    "standup",
    "demo",
    "slides",
    "deadline",
    "friday",
    "monday",
    "office",
    "remote",
    "weekend",
    "break",
    "question",
    "answer",
    "idea",
    "ideas",
    "thought",
    "point",
    "part",
    "first",
    "last",
    "next",
    "before",
    "after",
    "because",
    "then",
    "than",
    "only",
    "really",
    "very",
    "much",
    "more",
    "some",
    "any",
    "every",
    "other",
    "same",
    "different",
    "long",
    "short",
    "big",
    "small",
    "fast",
    "slow",
    "early",
    "late",
    "happy",
    "sorry",
    "hey",
    "hi",
    "hello",
    "bye",
    "cheers",
    "lol",
    "btw",
    "fyi",
    "asap",
];

/// Words in other scripts and with accents, picked now and then.
const FOREIGN: &[&str] = &[
    "café",
    "naïve",
    "déjà",
    "façade",
    "crème",
    "über",
    "Müller",
    "Straße",
    "größer",
    "Grüße",
    "schön",
    "Zürich",
    "señor",
    "mañana",
    "años",
    "Ølberg",
    "smörgåsbord",
    "Ελλάδα",
    "Σωκράτης",
    "καλημέρα",
    "ευχαριστώ",
    "привет",
    "спасибо",
    "Москва",
    "хорошо",
    "日本語",
    "東京",
    "ありがとう",
    "你好",
    "谢谢",
    "北京",
    "안녕하세요",
    "서울",
    "😀",
    "🎉",
    "👍",
    "🚀",
    "☕",
    "İstanbul",
    "çok",
    "teşekkürler",
    "Kraków",
    "dziękuję",
    "Ångström",
];

const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "ch", "cl", "dr",
    "fl", "gr", "kr", "pl", "pr", "sh", "sk", "sl", "sp", "st", "th", "tr",
];
const NUCLEI: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ee", "ou", "oo", "y"];
const CODAS: &[&str] = &["", "", "", "n", "r", "s", "t", "l", "m", "nd", "rt", "st", "ck", "x"];

/// Made-up words: the long tail of names, jargon and typos.
const TAIL_WORDS: usize = 50_000;

/// Words planted at known rates, so that queries of known selectivity exist.
/// Each is planted in message `n` (counting from 0) when `n % every == at`.
#[derive(Clone, Copy, Debug)]
pub struct Marker {
    pub word: &'static str,
    pub every: u64,
    pub at: u64,
}

/// About 20 messages in a million carry "zanzibarite"; about 2,000 carry
/// "Квазар" (Cyrillic: "quasar").
pub const MARKERS: &[Marker] =
    &[Marker { word: "zanzibarite", every: 50_000, at: 777 }, Marker { word: "Квазар", every: 500, at: 123 }];

/// How many of messages `0..messages` carry `marker`.
pub fn planted(marker: &Marker, messages: u64) -> u64 {
    if messages > marker.at { (messages - marker.at - 1) / marker.every + 1 } else { 0 }
}

pub struct Corpus {
    tail: Vec<String>,
}

impl Default for Corpus {
    fn default() -> Self {
        Self::new()
    }
}

impl Corpus {
    pub fn new() -> Self {
        let mut rng = Rng::new(42);
        let tail = (0..TAIL_WORDS)
            .map(|_| {
                let syllables = 2 + rng.below(3);
                let mut word = String::new();
                for _ in 0..syllables {
                    word.push_str(ONSETS[rng.below(ONSETS.len() as u64) as usize]);
                    word.push_str(NUCLEI[rng.below(NUCLEI.len() as u64) as usize]);
                    word.push_str(CODAS[rng.below(CODAS.len() as u64) as usize]);
                }
                word
            })
            .collect();
        Self { tail }
    }

    /// The body of message `n` (counting from 0), the same for every run with
    /// the same `seed`: 2 to 30 words, mostly short, with capitals and
    /// punctuation now and then.
    pub fn body(&self, seed: u64, n: u64) -> String {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(n));
        // Mostly short chat lines, some long ones.
        let words = if rng.below(10) == 0 { 12 + rng.below(19) } else { 2 + rng.below(11) };
        let mut body = String::with_capacity(words as usize * 7);
        for i in 0..words {
            if i > 0 {
                body.push(' ');
            }
            let pick = rng.below(100);
            let word: &str = if pick < 72 {
                COMMON[rng.zipf(COMMON.len())]
            } else if pick < 97 {
                &self.tail[rng.zipf(TAIL_WORDS)]
            } else {
                FOREIGN[rng.below(FOREIGN.len() as u64) as usize]
            };
            if i == 0 || rng.below(40) == 0 {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    body.extend(first.to_uppercase());
                    body.push_str(chars.as_str());
                }
            } else {
                body.push_str(word);
            }
            if rng.below(25) == 0 {
                body.push(',');
            }
        }
        for marker in MARKERS {
            if n % marker.every == marker.at {
                body.push(' ');
                body.push_str(marker.word);
            }
        }
        match rng.below(6) {
            0 => body.push('?'),
            1 => body.push('.'),
            2 => body.push('!'),
            _ => {}
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_deterministic_and_varied() {
        let corpus = Corpus::new();
        assert_eq!(corpus.body(1, 5), corpus.body(1, 5));
        assert_ne!(corpus.body(1, 5), corpus.body(1, 6));
        let n = 20_000;
        let with = |needle: &str| (0..n).filter(|&i| corpus.body(1, i).to_lowercase().contains(needle)).count();
        // A common word is in a large share, a made-up word in few, markers as planted.
        assert!(with("the") > (n / 10) as usize, "the: {}", with("the"));
        assert_eq!(with("zanzibarite") as u64, planted(&MARKERS[0], n));
        assert_eq!(with("квазар") as u64, planted(&MARKERS[1], n));
        assert!((0..n).any(|i| !corpus.body(1, i).is_ascii()));
    }

    #[test]
    fn zipf_stays_in_range() {
        let mut rng = Rng::new(7);
        assert!((0..10_000).all(|_| rng.zipf(5) < 5));
    }
}
