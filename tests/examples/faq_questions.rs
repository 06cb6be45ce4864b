//! Prints the questions of the two FAQ corpora, numbered (to write paraphrases against).
fn main() {
    for (name, faqs) in [
        ("python", halo_tests::corpora::python_faq()),
        ("debian", halo_tests::corpora::debian_faq()),
    ] {
        let faqs = faqs.expect("corpus installed");
        println!("# {name}: {} questions", faqs.len());
        for (i, f) in faqs.iter().enumerate() {
            println!("{name}\t{i}\t{}", f.question);
        }
    }
}
