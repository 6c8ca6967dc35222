//! Grey pixels and what the QR reader needs of them: smaller views made by area averaging, and each pixel's neighbourhood average.

/// An 8-bit grey image, row by row.
#[derive(Clone)]
pub(super) struct Grey {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) pixels: Vec<u8>,
}

impl Grey {
    pub(super) fn long_side(&self) -> u32 {
        self.width.max(self.height)
    }

    /// The smallest whole factor that brings the long side down to `target` or below (1: as it is).
    pub(super) fn factor_for(&self, target: u32) -> u32 {
        self.long_side().div_ceil(target.max(1)).max(1)
    }

    /// Every `factor`×`factor` block averaged into one pixel (a remainder at the right and bottom
    /// edges is dropped).
    ///
    /// Averaging, not sampling: a photo's sensor noise, JPEG blocks and a screen's moiré average out,
    /// and a QR module stays one grey level, which is why a shrunk photo often reads better than the
    /// original. Cost: one pass over the pixels.
    pub(super) fn shrunk(&self, factor: u32) -> Grey {
        if factor <= 1 {
            return self.clone();
        }
        let f = factor as usize;
        let (width, height) = ((self.width / factor) as usize, (self.height / factor) as usize);
        let source_width = self.width as usize;
        let mut pixels = Vec::with_capacity(width * height);
        let mut sums = vec![0u32; width];
        let area = (f * f) as u32;
        for out_y in 0..height {
            sums.fill(0);
            for row in self.pixels.chunks_exact(source_width).skip(out_y * f).take(f) {
                for (sum, block) in sums.iter_mut().zip(row.chunks_exact(f)) {
                    *sum += block.iter().map(|&p| u32::from(p)).sum::<u32>();
                }
            }
            pixels.extend(sums.iter().map(|&s| ((s + area / 2) / area) as u8));
        }
        Grey { width: width as u32, height: height as u32, pixels }
    }

    /// Each pixel's neighbourhood average: the mean of the (2·radius+1)² square around it, clipped at
    /// the edges. Two running-sum passes, so the cost does not grow with the radius.
    pub(super) fn local_mean(&self, radius: u32) -> Vec<u8> {
        let (width, height) = (self.width as usize, self.height as usize);
        let r = radius as usize;
        let mut across = vec![0u32; width * height];
        for (row, sums) in self.pixels.chunks_exact(width).zip(across.chunks_exact_mut(width)) {
            let row: Vec<u32> = row.iter().map(|&p| u32::from(p)).collect();
            window_sums(&row, r, sums);
        }
        let mut totals = vec![0u32; width * height];
        let (mut column, mut sums) = (vec![0u32; height], vec![0u32; height]);
        for x in 0..width {
            column.iter_mut().enumerate().for_each(|(y, value)| *value = across[y * width + x]);
            window_sums(&column, r, &mut sums);
            sums.iter().enumerate().for_each(|(y, &sum)| totals[y * width + x] = sum);
        }
        // How many pixels each window held: fewer at the edges.
        let held = |i: usize, n: usize| (i.min(r) + (n - 1 - i).min(r) + 1) as u32;
        totals
            .iter()
            .enumerate()
            .map(|(i, &total)| (total / (held(i % width, width) * held(i / width, height))) as u8)
            .collect()
    }
}

/// Into `sums`, the sum of each window of `2r+1` values along `line`, clipped at its ends.
fn window_sums(line: &[u32], r: usize, sums: &mut [u32]) {
    let mut sum: u32 = line.iter().take(r + 1).sum();
    for (i, out) in sums.iter_mut().enumerate() {
        *out = sum;
        if let Some(entering) = line.get(i + r + 1) {
            sum += entering;
        }
        if i >= r {
            sum -= line[i - r];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(width: u32, height: u32, pixels: Vec<u8>) -> Grey {
        assert_eq!(pixels.len(), (width * height) as usize);
        Grey { width, height, pixels }
    }

    #[test]
    fn shrinking_averages_blocks_and_drops_the_ragged_edge() {
        let image = grey(5, 3, vec![0, 100, 200, 0, 9, 100, 200, 0, 100, 9, 9, 9, 9, 9, 9]);
        let small = image.shrunk(2);
        assert_eq!((small.width, small.height), (2, 1));
        assert_eq!(small.pixels, vec![100, 75]);
        assert_eq!(image.shrunk(1).pixels, image.pixels);
    }

    #[test]
    fn the_factor_brings_the_long_side_under_the_target() {
        assert_eq!(grey(1, 1, vec![0]).factor_for(1600), 1);
        let photo = Grey { width: 4000, height: 3000, pixels: Vec::new() };
        assert_eq!(photo.factor_for(1600), 3);
        assert_eq!(photo.factor_for(4000), 1);
        assert_eq!(photo.factor_for(0), 4000);
    }

    #[test]
    fn the_local_mean_averages_the_square_around_each_pixel() {
        let image = grey(4, 3, vec![0, 30, 60, 90, 30, 60, 90, 120, 60, 90, 120, 150]);
        let mean = image.local_mean(1);
        // Corner: the 2×2 around it; inside: the full 3×3.
        assert_eq!(u32::from(mean[0]), (30 + 30 + 60) / 4);
        assert_eq!(u32::from(mean[5]), (30 + 60 + 30 + 60 + 90 + 60 + 90 + 120) / 9);
        assert_eq!(image.local_mean(0), image.pixels);
        // A radius wider than the picture: every pixel gets the whole picture's mean.
        assert!(image.local_mean(10).iter().all(|&m| m == 75));
    }
}
