// Skiff as a Jenkins pipeline step: skiff(pipelines: '.skiff', executor: 'docker').
//
// Finds the Skiff CLI (or runs it through npx), runs `skiff ci --provider jenkins`, which selects the
// pipelines the build's change or branch triggers (the same skiff.dev/on-* annotations as on GitHub and
// GitLab) and runs them, publishes the JUnit report with `junit`, and, where the Checks API plugin is
// installed, publishes one check per workflow and per step with `publishChecks` (GitHub-hosted jobs show them
// on the pull request). Returns the CLI's exit code: 0 succeeded or nothing selected, 1 a pipeline failed,
// 2 Skiff could not start.
//
// Arguments (all optional): pipelines, executor, config, junit (report file), cli (command that runs Skiff),
// event (instead of the build's), parameters (a map of workflow parameters), checks (false: no
// publishChecks), failOnFailure (false: a failed pipeline marks the build UNSTABLE instead of failing it).

def call(Map args = [:]) {
    String pipelines = args.pipelines ?: '.skiff'
    String executor = args.executor ?: 'auto'
    String report = args.junit ?: 'skiff-junit.xml'
    String cli = args.cli ?: findCli()
    String event = args.event ?: eventOfBuild()

    List<String> command = [cli, 'ci', '--provider', 'jenkins',
                            '--pipelines', quote(pipelines),
                            '--executor', quote(executor),
                            '--junit', quote(report)]
    if (args.config) command += ['--config', quote(args.config as String)]
    if (event) command += ['--event', quote(event)]
    (args.parameters ?: [:]).each { name, value -> command += ['-p', quote("${name}=${value}")] }

    int status = sh(script: command.join(' '), returnStatus: true) as int

    if (fileExists(report)) {
        junit(testResults: report, allowEmptyResults: true)
        if (args.checks != false) publishStepChecks(readFile(report))
    } else {
        echo "skiff: no JUnit report at ${report}"
    }

    if (status == 2) error("skiff could not start (exit code 2); the log above says why")
    if (status != 0) {
        if (args.failOnFailure == false) currentBuild.result = 'UNSTABLE'
        else error("skiff: a pipeline failed (exit code ${status})")
    }
    return status
}

/** `skiff` on the PATH, the project's own install, else the published CLI through npx. */
String findCli() {
    if (sh(script: 'command -v skiff >/dev/null 2>&1', returnStatus: true) == 0) return 'skiff'
    if (fileExists('node_modules/.bin/skiff')) return 'node_modules/.bin/skiff'
    return 'npx --yes skiff@0.1'
}

/**
 * Jenkins does not say why a build started the way GitLab and GitHub do: timer builds are `schedule`, builds
 * started by hand `workflow_dispatch`; null lets `skiff ci` read the change or branch (pull_request, push).
 */
String eventOfBuild() {
    if (currentBuild.getBuildCauses('hudson.triggers.TimerTrigger$TimerTriggerCause')) return 'schedule'
    if (currentBuild.getBuildCauses('hudson.model.Cause$UserIdCause')) return 'workflow_dispatch'
    return null
}

/** One check per testsuite (workflow) and per testcase (step) of the report, when the Checks API is there. */
void publishStepChecks(String xml) {
    List<Map> checks = checksOf(xml, env.BUILD_URL as String)
    for (Map check : checks) {
        try {
            publishChecks(check)
        } catch (NoSuchMethodError ignored) {
            echo 'skiff: the Checks API plugin is not installed; steps are in the test results only'
            return
        }
    }
}

/** Reads the JUnit report Skiff wrote into publishChecks arguments. */
@NonCPS
static List<Map> checksOf(String xml, String buildUrl) {
    def suites = new XmlSlurper().parseText(xml)
    List<Map> checks = []
    suites.testsuite.each { suite ->
        String pipeline = suite.@name.text()
        int failed = (suite.@failures.text() ?: '0').toInteger() + (suite.@errors.text() ?: '0').toInteger()
        int total = (suite.@tests.text() ?: '0').toInteger()
        List<String> rows = []
        suite.testcase.each { tc ->
            String step = tc.@name.text()
            Map result = resultOf(tc)
            rows << "| ${result.conclusion} | ${step} | ${tc.@time.text()}s |".toString()
            Map check = [name: "${pipeline} / ${step}".toString(),
                         title: "${step}: ${result.conclusion.toLowerCase()}".toString(),
                         summary: (result.message ?: result.conclusion).toString(),
                         text: tc.'system-out'.text() ? "```\n${tc.'system-out'.text()}\n```".toString() : '',
                         status: 'COMPLETED',
                         conclusion: result.conclusion]
            if (buildUrl) check.detailsURL = buildUrl
            String file = tc.@file.text()
            String line = tc.@line.text()
            if (result.conclusion == 'FAILURE' && file && line)
                check.annotations = [[path: file, startLine: line.toInteger(), endLine: line.toInteger(),
                                      annotationLevel: 'FAILURE', message: (result.message ?: 'failed').toString(),
                                      title: "${pipeline} / ${step}".toString()]]
            checks << check
        }
        Map summary = [name: pipeline,
                       title: failed > 0 ? "${failed} of ${total} steps failed".toString() : "${total} steps succeeded".toString(),
                       summary: (['| | Step | Time |', '|---|---|---|'] + rows).join('\n'),
                       status: 'COMPLETED',
                       conclusion: failed > 0 ? 'FAILURE' : 'SUCCESS']
        if (buildUrl) summary.detailsURL = buildUrl
        checks.add(0, summary)
    }
    return checks
}

@NonCPS
static Map resultOf(tc) {
    if (tc.failure.size() > 0) return [conclusion: 'FAILURE', message: tc.failure.@message.text()]
    if (tc.error.size() > 0) return [conclusion: 'FAILURE', message: tc.error.@message.text()]
    if (tc.skipped.size() > 0) return [conclusion: 'SKIPPED', message: tc.skipped.@message.text()]
    return [conclusion: 'SUCCESS', message: null]
}

/** Single-quotes a value for sh. */
@NonCPS
static String quote(String value) {
    return "'" + value.replace("'", "'\\''") + "'"
}
