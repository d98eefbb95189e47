//! The scale curves as pictures: each curve's panels side by side in one SVG file, with the
//! work on a logarithmic x axis (the sizes grow by factors of ten), so that the docs can show
//! where a curve bends.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

/// One line of a panel: its name in the legend and its points `(work, cost)`.
pub struct Line {
    pub name: &'static str,
    pub points: Vec<(f64, f64)>,
}

/// One chart of a figure.
pub struct Panel {
    pub title: String,
    pub x: &'static str,
    pub y: &'static str,
    pub lines: Vec<Line>,
}

/// The colours of a panel's lines, in order: the hub first, its baseline second.
const COLOURS: [RGBColor; 3] = [RGBColor(200, 30, 30), RGBColor(40, 90, 200), GREEN];

/// Writes `panels` side by side into the SVG file at `path`.
pub fn write_svg(path: &Path, panels: &[Panel]) -> anyhow::Result<()> {
    let width = 560 * u32::try_from(panels.len().max(1))?;
    let root = SVGBackend::new(path, (width, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(plotting)?;
    for (area, panel) in root
        .split_evenly((1, panels.len().max(1)))
        .iter()
        .zip(panels)
    {
        draw(area, panel).with_context(|| format!("drawing {:?}", panel.title))?;
    }
    root.present().map_err(plotting)?;
    Ok(())
}

fn draw(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    panel: &Panel,
) -> anyhow::Result<()> {
    let points = || panel.lines.iter().flat_map(|line| line.points.iter());
    let x_min = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_max = points().map(|p| p.0).fold(0.0, f64::max);
    let y_max = points().map(|p| p.1).fold(0.0, f64::max);
    anyhow::ensure!(
        x_min.is_finite() && x_min > 0.0,
        "no points, or a point at x ≤ 0"
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x_min * 0.8..x_max * 1.25).log_scale(),
            0.0..(y_max * 1.15).max(f64::MIN_POSITIVE),
        )
        .map_err(plotting)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| crate::thousands(x.round() as u64))
        .x_desc(panel.x)
        .y_desc(panel.y)
        .draw()
        .map_err(plotting)?;
    for (line, colour) in panel.lines.iter().zip(COLOURS) {
        chart
            .draw_series(
                LineSeries::new(line.points.iter().copied(), colour.stroke_width(2)).point_size(3),
            )
            .map_err(plotting)?
            .label(line.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plotting)?;
    Ok(())
}

/// plotters' errors carry the backend's error type; they become text here.
fn plotting<E: std::fmt::Display>(error: E) -> anyhow::Error {
    anyhow::anyhow!("plotting: {error}")
}
