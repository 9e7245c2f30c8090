"""CLIP models for chest X-ray image-report pairs: towers, eCLIP heatmap processor, preprocessing."""
