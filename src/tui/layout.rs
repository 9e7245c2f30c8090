/*! Layout constants shared by the app (mouse hit tests, thumbnails) and the views. */

/// Thumbnail size in cells (half blocks: two pixel rows per cell).
pub const THUMB_CELLS: (u16, u16) = (6, 3);
