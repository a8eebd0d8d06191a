from hotline.services.escalation.app import SERVICE, create_app
from hotline.shared.service import run
from hotline.shared.settings import Settings

if __name__ == "__main__":
    run(create_app(Settings()), SERVICE)
