"""Operations on the binder. Each takes a Session, raises carebinder errors, never commits."""
