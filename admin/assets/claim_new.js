// 代录 form: show the discharge date and the photo fields the chosen plan asks for (every
// field stays in the page; without script all are shown and the server checks the plan's).
(function () {
  var plan = document.getElementById("plan");
  if (!plan) return;
  var apply = function () {
    document.querySelectorAll("#claim-new [data-plans]").forEach(function (el) {
      var on = !plan.value || el.dataset.plans.split(" ").indexOf(plan.value) >= 0;
      el.classList.toggle("hidden", !on);
    });
  };
  plan.addEventListener("change", apply);
  apply();
})();
