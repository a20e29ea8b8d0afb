// The reason of #[public] written without its key: the error shows it with `reason = `.
use authgate::public;

#[public("load-balancer health check")]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    let _ = health;
}
