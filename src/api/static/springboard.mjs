// GOV.UK Frontend's components (error summary focus, notification banners, header menu).
import { initAll } from "/static/govuk/govuk-frontend.min.js";
document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
