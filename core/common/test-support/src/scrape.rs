//! Reading Prometheus' text format as tests read a proxy's `/metrics`:
//! the sum of a family's series that carry given labels.

/// The sum of `family`'s series in `text` whose labels include every one
/// of `having` (each written as in the text, `client_id="..."`).
pub fn sum(text: &str, family: &str, having: &[&str]) -> f64 {
    let start = format!("{family}{{");
    text.lines()
        .filter(|line| line.starts_with(&start))
        .filter(|line| having.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::sum;

    #[test]
    fn only_the_familys_series_with_every_label_are_summed() {
        let text = "# TYPE request_total counter\n\
            request_total{direction=\"inbound\",client_id=\"a\"} 2\n\
            request_total{direction=\"inbound\",client_id=\"b\"} 3\n\
            request_total{direction=\"outbound\",client_id=\"a\"} 5\n\
            request_totals{direction=\"inbound\",client_id=\"a\"} 7\n";
        assert_eq!(sum(text, "request_total", &["direction=\"inbound\""]), 5.0);
        assert_eq!(
            sum(
                text,
                "request_total",
                &["direction=\"inbound\"", "client_id=\"a\""]
            ),
            2.0
        );
        assert_eq!(sum(text, "request_total", &["client_id=\"c\""]), 0.0);
        assert_eq!(sum(text, "response_total", &[]), 0.0);
    }
}
