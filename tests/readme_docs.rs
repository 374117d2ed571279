//! The README and the crate docs (`cargo doc -p goro`) show the same tables: the facade's
//! front page includes `src/docs/*.md`, and the README must contain each of them word for word.

const README: &str = include_str!("../README.md");

fn assert_in_readme(name: &str, text: &str) {
    assert!(
        README.contains(text.trim()),
        "README.md no longer contains src/docs/{name} word for word: edit both together"
    );
}

#[test]
fn readme_has_the_go_to_goro_table() {
    assert_in_readme("go-to-goro.md", include_str!("../src/docs/go-to-goro.md"));
}

#[test]
fn readme_has_the_limits() {
    assert_in_readme("limits.md", include_str!("../src/docs/limits.md"));
}

#[test]
fn readme_has_the_ecosystem_page() {
    assert_in_readme("ecosystem.md", include_str!("../src/docs/ecosystem.md"));
}
