// Runs plugins/jenkins/vars/skiff.groovy outside Jenkins, with stubs of the pipeline steps it calls, and
// writes every call to a JSON file. `sh` runs its script for real, in the workspace, with `env` added to the
// environment, so the report the library publishes comes from a real `skiff ci`.
//
// groovy pipeline-steps.groovy <vars/skiff.groovy> <scenario.json> <calls.json>
// scenario: { workspace, env: {}, args: {}, causes: [class names], checksPlugin: true|false }

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

class StepError extends RuntimeException {
    StepError(String message) { super(message) }
}

def (String library, String scenarioFile, String callsFile) = args
Map scenario = new JsonSlurper().parse(new File(scenarioFile)) as Map
File workspace = new File(scenario.workspace as String)
List<Map> calls = []

// Jenkins' CPS engine imports @NonCPS into every pipeline script; outside Jenkins it is a plain annotation.
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}''')
CompilerConfiguration config = new CompilerConfiguration()
config.addCompilationCustomizers(new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS'))

Map currentBuild = [result: null]
currentBuild.getBuildCauses = { String cls -> (scenario.causes ?: []).contains(cls) ? [[_class: cls]] : [] }

Binding binding = new Binding()
binding.setVariable('env', scenario.env ?: [:])
binding.setVariable('currentBuild', currentBuild)
binding.setVariable('sh', { Map m ->
    calls << [step: 'sh', args: m]
    ProcessBuilder pb = new ProcessBuilder('sh', '-c', m.script as String).directory(workspace).redirectErrorStream(true)
    (scenario.env ?: [:]).each { k, v -> pb.environment().put(k as String, v as String) }
    Process p = pb.start()
    String out = p.inputStream.text
    int code = p.waitFor()
    System.err.print(out)
    if (!m.returnStatus && code != 0) throw new StepError("script returned exit code ${code}")
    return m.returnStatus ? code : out
})
binding.setVariable('fileExists', { String path -> calls << [step: 'fileExists', args: path]; new File(workspace, path).exists() })
binding.setVariable('readFile', { String path -> calls << [step: 'readFile', args: path]; new File(workspace, path).text })
binding.setVariable('junit', { Map m -> calls << [step: 'junit', args: m] })
binding.setVariable('echo', { String s -> calls << [step: 'echo', args: s] })
binding.setVariable('error', { String s -> calls << [step: 'error', args: s]; throw new StepError(s) })
binding.setVariable('publishChecks', { Map m ->
    if (!scenario.checksPlugin) throw new NoSuchMethodError("No such DSL method 'publishChecks' found among steps")
    calls << [step: 'publishChecks', args: m]
})

Script skiff = new GroovyShell(loader, binding, config).parse(new File(library))
Map outcome = [:]
try {
    outcome.returned = skiff.invokeMethod('call', [scenario.args ?: [:]] as Object[])
} catch (StepError e) {
    outcome.error = e.message
}
outcome.result = currentBuild.result
new File(callsFile).text = JsonOutput.toJson([calls: calls, outcome: outcome])
