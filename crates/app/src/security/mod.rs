//! Security primitives the use cases rely on: argon2id password hashing (off
//! the async workers) and HS256 JWT issuing/verification.

mod jwt;
mod password;

pub use jwt::{Claims, IssuedToken, JwtSettings, TokenService};
pub use password::Argon2Hasher;
