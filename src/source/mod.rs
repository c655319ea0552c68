//! Loading manifests: directory → files → documents → typed objects with their origins,
//! and a diagnostic for anything that cannot be read.

mod decode;
mod diagnostic;
mod load;

pub use decode::{decode_file, Decoded};
pub use diagnostic::{Diagnostic, Severity};
pub use load::{load_dir, DirLoad, FileLoad};
