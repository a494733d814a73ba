"""Metrics over episodes, pure functions of recorded numbers and images: success statistics and
intervals, RoboLab's adaptive-sampling rule, trajectory metrics (SPARC), image metrics (PSNR,
SSIM) and world-model scoring records."""
