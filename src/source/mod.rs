//! Loading manifests: directory → files → documents → typed objects with their origins,
//! and a diagnostic for anything that cannot be read.

mod decode;
mod diagnostic;
pub mod layer;
mod load;

pub use decode::{decode_file, Decoded};
pub use diagnostic::{Diagnostic, Severity};
pub use load::{load_dir, load_layers, DirLoad, FileLoad};
