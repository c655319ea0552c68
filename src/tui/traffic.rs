//! The traffic pane's lines: per rule, one bar per backend with the observed share next to
//! the configured weight, the pods' shares, requests per second with a sparkline, status
//! codes and latency.

use super::render::{dim, health_style, mark};
use crate::view::{Counts, Health, RuleTraffic, ViewModel};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

const PARTIAL: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The pane for an inner width of `width` columns.
pub fn lines(vm: &ViewModel, width: u16) -> Vec<Line<'static>> {
    let Some(pane) = &vm.traffic else {
        return vec![Line::from(dim("no route selected"))];
    };
    let mut out = Vec::new();
    if pane.rules.is_empty() {
        if let Some(why) = &pane.no_target {
            out.push(Line::from(Span::styled(
                why.clone(),
                health_style(Health::Unknown),
            )));
        }
        return out;
    }
    for r in &pane.rules {
        out.extend(rule(r, usize::from(width)));
    }
    match &pane.target {
        Some(t) => out.push(Line::from(dim(format!(
            "t sends {} {}{} via {}",
            t.method, t.host, t.path, t.addr
        )))),
        None => {
            if let Some(why) = &pane.no_target {
                out.push(Line::from(Span::styled(
                    why.clone(),
                    health_style(Health::Unknown),
                )));
            }
        }
    }
    out
}

fn rule(r: &RuleTraffic, width: usize) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("rule {}", r.index),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        dim(format!("  {}", r.matches)),
    ])];
    let label_w = r
        .backends
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    // label, two spaces, bar, " 100.0%", "  (weight 100)", "  ✔"
    let bar_w = width.saturating_sub(label_w + 2 + 7 + 14 + 3).max(4);
    for b in &r.backends {
        let health = if b.problem.is_some() {
            Health::Unhealthy
        } else {
            Health::Healthy
        };
        let label: String = b.label.chars().take(label_w).collect();
        let share = b.share.unwrap_or(0.0);
        let share_text = b
            .share
            .map(|s| format!("{s:>6.1}%"))
            .unwrap_or_else(|| "     -%".into());
        let mut spans = vec![
            Span::raw(format!("{label:<label_w$}  ")),
            Span::styled(bar(share, bar_w), Style::default().fg(Color::Cyan)),
            Span::raw(share_text),
            dim(format!("  (weight {})", b.weight)),
            Span::raw("  "),
            mark(health),
        ];
        if let Some(p) = &b.problem {
            spans.push(Span::styled(format!(" {p}"), health_style(health)));
        }
        out.push(Line::from(spans));
    }
    let pods: Vec<String> = r
        .backends
        .iter()
        .flat_map(|b| &b.pods)
        .map(|p| format!("{} {:.1}%", p.pod, p.share))
        .collect();
    if !pods.is_empty() {
        out.push(Line::from(dim(format!("  pods: {}", pods.join(" · ")))));
    }
    let mut summary = vec![Span::raw(format!(
        "{} req · {:.0} req/s ",
        thousands(r.totals.requests),
        r.rps
    ))];
    let spark = sparkline(&r.history, 20);
    if !spark.is_empty() {
        summary.push(Span::styled(spark, Style::default().fg(Color::Cyan)));
        summary.push(Span::raw(" "));
    }
    summary.extend(codes_and_latency(&r.totals));
    out.push(Line::from(summary));
    if r.direct.requests > 0 {
        let mut spans = vec![dim(format!(
            "  answered by the rule itself: {} ",
            thousands(r.direct.requests)
        ))];
        spans.extend(codes_and_latency(&r.direct));
        out.push(Line::from(spans));
    }
    out
}

fn codes_and_latency(c: &Counts) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (code, n) in &c.codes {
        let health = match code {
            200..=399 => Health::Healthy,
            _ => Health::Unhealthy,
        };
        spans.push(Span::styled(
            format!(" {code}: {}", thousands(*n)),
            health_style(health),
        ));
    }
    if c.retries > 0 {
        spans.push(dim(format!("  {} retried", thousands(c.retries))));
    }
    if let (Some(p50), Some(p99)) = (c.p50_ms, c.p99_ms) {
        spans.push(dim(format!("  p50 {p50} ms  p99 {p99} ms")));
    }
    spans
}

/// A bar of `width` cells filled to `percent`, in eighths of a cell.
fn bar(percent: f64, width: usize) -> String {
    let eighths = ((percent.clamp(0.0, 100.0) / 100.0) * (width * 8) as f64).round() as usize;
    let full = eighths / 8;
    let mut s = "█".repeat(full);
    s.push_str(PARTIAL.get(eighths % 8).copied().unwrap_or(""));
    let used = full + usize::from(!eighths.is_multiple_of(8));
    s.push_str(&" ".repeat(width.saturating_sub(used)));
    s
}

/// The last `width` values scaled to the largest.
fn sparkline(values: &[u64], width: usize) -> String {
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return String::new();
    }
    tail.iter()
        .map(|v| {
            let i = (v * 7).div_ceil(max) as usize;
            SPARK.get(i).copied().unwrap_or('█')
        })
        .collect()
}

/// `2000` → `2,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_sparklines_and_numbers() {
        assert_eq!(bar(50.0, 4), "██  ");
        assert_eq!(bar(100.0, 2), "██");
        assert_eq!(bar(0.0, 3), "   ");
        assert_eq!(bar(10.0, 10).trim_end(), "█");
        assert_eq!(bar(5.0, 10).trim_end(), "▌");
        assert_eq!(sparkline(&[0, 0], 5), "");
        assert_eq!(sparkline(&[1, 7, 14], 2), "▅█");
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
